import CLibMount
import SystemPackage

/// One line of /proc/self/mountinfo as libmount parses it (the kernel's octal escapes undone). `target` keeps the
/// path's bytes exactly: a mount point need not be UTF-8, and the shutdown unmounts it by that name.
public struct MountEntry: Sendable, Equatable {
    public var id: Int32
    public var parentID: Int32
    /// The mount source (`/dev/vda`, `10.0.2.2:/img`, `overlay`, ...); empty when the kernel shows none.
    public var source: String
    public var target: FilePath
    public var fileSystemType: String
    /// The per-mount (VFS) options: `rw`/`ro` first.
    public var mountOptions: String
    /// The file system's own options (`upperdir=...` for an overlay, `errors=remount-ro` for ext4).
    public var superOptions: String

    public init(
        id: Int32, parentID: Int32, source: String, target: FilePath, fileSystemType: String,
        mountOptions: String = "rw", superOptions: String = ""
    ) {
        self.id = id
        self.parentID = parentID
        self.source = source
        self.target = target
        self.fileSystemType = fileSystemType
        self.mountOptions = mountOptions
        self.superOptions = superOptions
    }

    public var isReadOnly: Bool { mountOptions.split(separator: ",").first == "ro" }
}

/// The mount table of this process's namespace.
public enum MountTable {
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case unreadable(path: String)

        public var description: String {
            switch self {
            case .unreadable(let path): "cannot read the mount table \(path) (is /proc mounted?)"
            }
        }
    }

    /// The mounts in the kernel's order (a parent before what is mounted on it, later mounts after earlier ones).
    public static func current(path: String = "/proc/self/mountinfo") throws(Error) -> [MountEntry] {
        guard let table = mnt_new_table_from_file(path) else { throw .unreadable(path: path) }
        defer { mnt_unref_table(table) }
        guard let iterator = mnt_new_iter(Int32(MNT_ITER_FORWARD)) else { throw .unreadable(path: path) }
        defer { mnt_free_iter(iterator) }
        var entries: [MountEntry] = []
        var fs: OpaquePointer? = nil
        while mnt_table_next_fs(table, iterator, &fs) == 0, let current = fs {
            guard let target = mnt_fs_get_target(current) else { continue }
            entries.append(
                MountEntry(
                    id: mnt_fs_get_id(current), parentID: mnt_fs_get_parent_id(current),
                    source: mnt_fs_get_source(current).map { String(cString: $0) } ?? "",
                    target: FilePath(platformString: target),
                    fileSystemType: mnt_fs_get_fstype(current).map { String(cString: $0) } ?? "",
                    mountOptions: mnt_fs_get_vfs_options(current).map { String(cString: $0) } ?? "",
                    superOptions: mnt_fs_get_fs_options(current).map { String(cString: $0) } ?? ""))
        }
        return entries
    }
}
