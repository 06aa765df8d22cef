import CNodeShim
import Glibc
import SystemPackage

extension FileTree {
    public static func makeDirectory(in directory: FileDescriptor, _ name: some FileTreeName, permissions: UInt32)
        throws(Error)
    {
        let name = name.pathBytes
        try checkComponent(name)
        _ = try retrying("mkdir", name) { name.withCString { mkdirat(directory.rawValue, $0, mode_t(permissions)) } }
    }

    public enum NodeKind: Sendable {
        case characterDevice(major: UInt32, minor: UInt32)
        case blockDevice(major: UInt32, minor: UInt32)
        case fifo
    }

    /// Creates a device node or FIFO `name` in `directory`.
    public static func makeNode(
        in directory: FileDescriptor, _ name: some FileTreeName, kind: NodeKind, permissions: UInt32
    ) throws(Error) {
        let name = name.pathBytes
        try checkComponent(name)
        let (type, device): (mode_t, dev_t)
        switch kind {
        case .characterDevice(let major, let minor): (type, device) = (S_IFCHR, nodeinit_makedev(major, minor))
        case .blockDevice(let major, let minor): (type, device) = (S_IFBLK, nodeinit_makedev(major, minor))
        case .fifo: (type, device) = (S_IFIFO, 0)
        }
        _ = try retrying("mknod", name) {
            name.withCString { mknodat(directory.rawValue, $0, type | mode_t(permissions & 0o7777), device) }
        }
    }

    public static func makeSymlink(in directory: FileDescriptor, _ name: some FileTreeName, target: some FileTreeName)
        throws(Error)
    {
        let name = name.pathBytes
        let target = target.pathBytes
        try checkComponent(name)
        _ = try retrying("symlink", name) {
            target.withCString { target in name.withCString { symlinkat(target, directory.rawValue, $0) } }
        }
    }

    /// Hard-links `existing` in `existingDirectory` as `name` in `directory`; a symlink is linked as itself.
    public static func makeHardLink(
        from existingDirectory: FileDescriptor, _ existing: some FileTreeName, in directory: FileDescriptor,
        _ name: some FileTreeName
    ) throws(Error) {
        let existing = existing.pathBytes
        try checkComponent(existing)
        let name = name.pathBytes
        try checkComponent(name)
        _ = try retrying("link", name) {
            existing.withCString { old in
                name.withCString { linkat(existingDirectory.rawValue, old, directory.rawValue, $0, 0) }
            }
        }
    }

    /// chown without following a symlink.
    public static func changeOwner(in directory: FileDescriptor, _ name: some FileTreeName, uid: UInt32, gid: UInt32)
        throws(Error)
    {
        let name = name.pathBytes
        try checkComponent(name)
        _ = try retrying("chown", name) {
            name.withCString { fchownat(directory.rawValue, $0, uid, gid, AT_SYMLINK_NOFOLLOW) }
        }
    }

    /// chmod of `name`; callers only use it on entries they just created and know are not symlinks.
    public static func changeMode(in directory: FileDescriptor, _ name: some FileTreeName, permissions: UInt32)
        throws(Error)
    {
        let name = name.pathBytes
        try checkComponent(name)
        _ = try retrying("chmod", name) {
            name.withCString { fchmodat(directory.rawValue, $0, mode_t(permissions & 0o7777), 0) }
        }
    }

    /// Sets access and modification time of `name` without following a symlink.
    public static func setTimes(in directory: FileDescriptor, _ name: some FileTreeName, modified: FileTimestamp)
        throws(Error)
    {
        let name = name.pathBytes
        try checkComponent(name)
        let time = timespec(tv_sec: time_t(modified.seconds), tv_nsec: Int(modified.nanoseconds))
        var times = (time, time)
        _ = try retrying("utimensat", name) {
            withUnsafePointer(to: &times) { pair in
                pair.withMemoryRebound(to: timespec.self, capacity: 2) { times in
                    name.withCString { utimensat(directory.rawValue, $0, times, AT_SYMLINK_NOFOLLOW) }
                }
            }
        }
    }

    /// Removes `name` from `directory`: a file or symlink is unlinked, a directory is emptied fd-anchored
    /// (never through a symlink) and removed. Absent entries are fine.
    public static func removeTree(in directory: FileDescriptor, _ name: some FileTreeName) throws(Error) {
        let name = name.pathBytes
        guard let status = try statusIfPresent(in: directory, name) else { return }
        if status.kind == .directory {
            try emptyDirectory(in: directory, name, keeping: { _ in false })
            _ = try retrying("rmdir", name) { name.withCString { unlinkat(directory.rawValue, $0, AT_REMOVEDIR) } }
        } else {
            _ = try retrying("unlink", name) { name.withCString { unlinkat(directory.rawValue, $0, 0) } }
        }
    }

    /// Removes every child of the directory `name` for which `keeping` returns false.
    public static func emptyDirectory(
        in directory: FileDescriptor, _ name: some FileTreeName, keeping: (PathBytes) -> Bool
    ) throws(Error) {
        let child = try openDirectory(in: directory, name)
        defer { closeQuietly(child) }
        let listing = try list(child, path: name.pathBytes.description)
        for entry in listing.entries where !keeping(entry) {
            try removeTree(in: child, entry)
        }
    }
}
