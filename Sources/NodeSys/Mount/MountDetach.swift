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
