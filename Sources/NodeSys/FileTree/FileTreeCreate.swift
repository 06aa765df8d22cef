import CNodeShim
import Glibc
import SystemPackage

extension FileTree {
    public static func makeDirectory(in directory: FileDescriptor, _ name: String, permissions: UInt32) throws(Error) {
        try checkComponent(name)
        _ = try retrying("mkdir", name) { mkdirat(directory.rawValue, name, mode_t(permissions)) }
    }

    public enum NodeKind: Sendable {
        case characterDevice(major: UInt32, minor: UInt32)
        case blockDevice(major: UInt32, minor: UInt32)
        case fifo
    }

    /// Creates a device node or FIFO `name` in `directory`.
    public static func makeNode(
        in directory: FileDescriptor, _ name: String, kind: NodeKind, permissions: UInt32
    ) throws(Error) {
        try checkComponent(name)
        let (type, device): (mode_t, dev_t)
        switch kind {
        case .characterDevice(let major, let minor): (type, device) = (S_IFCHR, nodeinit_makedev(major, minor))
        case .blockDevice(let major, let minor): (type, device) = (S_IFBLK, nodeinit_makedev(major, minor))
        case .fifo: (type, device) = (S_IFIFO, 0)
        }
        _ = try retrying("mknod", name) { mknodat(directory.rawValue, name, type | mode_t(permissions & 0o7777), device) }
    }

    public static func makeSymlink(in directory: FileDescriptor, _ name: String, target: String) throws(Error) {
        try checkComponent(name)
        _ = try retrying("symlink", name) { symlinkat(target, directory.rawValue, name) }
    }

    /// Hard-links `existing` in `existingDirectory` as `name` in `directory`; a symlink is linked as itself.
    public static func makeHardLink(
        from existingDirectory: FileDescriptor, _ existing: String, in directory: FileDescriptor, _ name: String
    ) throws(Error) {
        try checkComponent(existing)
        try checkComponent(name)
        _ = try retrying("link", name) { linkat(existingDirectory.rawValue, existing, directory.rawValue, name, 0) }
    }

    /// chown without following a symlink.
    public static func changeOwner(in directory: FileDescriptor, _ name: String, uid: UInt32, gid: UInt32) throws(Error) {
        try checkComponent(name)
        _ = try retrying("chown", name) { fchownat(directory.rawValue, name, uid, gid, AT_SYMLINK_NOFOLLOW) }
    }

    /// chmod of `name`; callers only use it on entries they just created and know are not symlinks.
    public static func changeMode(in directory: FileDescriptor, _ name: String, permissions: UInt32) throws(Error) {
        try checkComponent(name)
        _ = try retrying("chmod", name) { fchmodat(directory.rawValue, name, mode_t(permissions & 0o7777), 0) }
    }

    /// Sets access and modification time of `name` without following a symlink.
    public static func setTimes(in directory: FileDescriptor, _ name: String, modified: FileTimestamp) throws(Error) {
        try checkComponent(name)
        let time = timespec(tv_sec: time_t(modified.seconds), tv_nsec: Int(modified.nanoseconds))
        var times = (time, time)
        _ = try retrying("utimensat", name) {
            withUnsafePointer(to: &times) { pair in
                pair.withMemoryRebound(to: timespec.self, capacity: 2) {
                    utimensat(directory.rawValue, name, $0, AT_SYMLINK_NOFOLLOW)
                }
            }
        }
    }

    /// Removes `name` from `directory`: a file or symlink is unlinked, a directory is emptied fd-anchored
    /// (never through a symlink) and removed. Absent entries are fine.
    public static func removeTree(in directory: FileDescriptor, _ name: String) throws(Error) {
        guard let status = try statusIfPresent(in: directory, name) else { return }
        if status.kind == .directory {
            try emptyDirectory(in: directory, name, keeping: { _ in false })
            _ = try retrying("rmdir", name) { unlinkat(directory.rawValue, name, AT_REMOVEDIR) }
        } else {
            _ = try retrying("unlink", name) { unlinkat(directory.rawValue, name, 0) }
        }
    }

    /// Removes every child of the directory `name` for which `keeping` returns false.
    public static func emptyDirectory(
        in directory: FileDescriptor, _ name: String, keeping: (String) -> Bool
    ) throws(Error) {
        let child = try openDirectory(in: directory, name)
        defer { closeQuietly(child) }
        let listing = try list(child, path: name)
        for entry in listing.names where !keeping(entry) {
            try removeTree(in: child, entry)
        }
        if !listing.undecodableNames.isEmpty {
            throw .system(operation: "remove (name is not UTF-8)", path: name, errno: .notSupported)
        }
    }
}
