import Glibc
import SystemPackage

extension Mount {
    /// umount2(MNT_DETACH) of whatever is mounted on `path` (undoing a mount that turned out unusable).
    public static func detach(_ path: String) throws(Errno) {
        if umount2(path, Int32(MNT_DETACH)) != 0 { throw Errno.captured }
    }

    /// The owner of a mounted tree's top directory (lstat), nil when it cannot be read.
    public static func rootOwner(_ path: String) -> (uid: UInt32, gid: UInt32)? {
        guard let directory = try? FileTree.openAnchor(FilePath(path)) else { return nil }
        defer { FileTree.closeQuietly(directory) }
        guard let status = try? FileTree.status(of: directory, path: path) else { return nil }
        return (status.uid, status.gid)
    }
}

extension Mount {
    /// umount2(2) of `path` (by its exact bytes): a plain unmount, or MNT_DETACH when `detach`.
    public static func unmount(_ path: FilePath, detach: Bool) throws(Errno) {
        let flags = detach ? Int32(MNT_DETACH) : 0
        if path.withPlatformString({ umount2($0, flags) }) != 0 { throw Errno.captured }
    }

    /// Makes the file system mounted on `path` read-only (MS_REMOUNT|MS_RDONLY on its superblock, not only this
    /// mount): ext4 and xfs then commit their journal and mark themselves clean.
    public static func remountReadOnly(_ path: FilePath) throws(Errno) {
        let flags = UInt(MS_REMOUNT) | UInt(MS_RDONLY)
        if path.withPlatformString({ Glibc.mount(nil, $0, nil, flags, nil) }) != 0 { throw Errno.captured }
    }

    /// mount(2) of a block device with no options: when its file system is still active (kept alive by an overlay
    /// whose own mount point is gone), the kernel hands back that same superblock.
    public static func mountDevice(_ device: String, at target: String, type: String) throws(Errno) {
        if Glibc.mount(device, target, type, 0, nil) != 0 { throw Errno.captured }
    }
}
