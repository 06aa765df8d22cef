import CNodeShim
import Glibc

/// A point in time as stored by the kernel (seconds and nanoseconds since the epoch).
public struct FileTimestamp: Sendable, Hashable, Codable, Comparable {
    public var seconds: Int64
    public var nanoseconds: Int32

    public init(seconds: Int64, nanoseconds: Int32) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    public static func < (a: FileTimestamp, b: FileTimestamp) -> Bool {
        (a.seconds, a.nanoseconds) < (b.seconds, b.nanoseconds)
    }
}

/// What `lstat` says about one file, reduced to what capture and apply need.
public struct FileStatus: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable {
        case regular, directory, symlink, characterDevice, blockDevice, fifo, socket, unknown
    }

    public var kind: Kind
    /// Permission bits including setuid/setgid/sticky (mode & 07777).
    public var permissions: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var size: Int64
    /// Allocated 512-byte blocks; fewer than `size` needs means the file has holes.
    public var blocks: Int64
    public var mtime: FileTimestamp
    public var ctime: FileTimestamp
    public var device: UInt64
    public var inode: UInt64
    public var linkCount: UInt64
    public var deviceMajor: UInt32
    public var deviceMinor: UInt32

    init(_ st: stat) {
        switch st.st_mode & S_IFMT {
        case S_IFREG: kind = .regular
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symlink
        case S_IFCHR: kind = .characterDevice
        case S_IFBLK: kind = .blockDevice
        case S_IFIFO: kind = .fifo
        case S_IFSOCK: kind = .socket
        default: kind = .unknown
        }
        permissions = UInt32(st.st_mode & 0o7777)
        uid = UInt32(st.st_uid)
        gid = UInt32(st.st_gid)
        size = Int64(st.st_size)
        blocks = Int64(st.st_blocks)
        mtime = FileTimestamp(
            seconds: Int64(st.st_mtim.tv_sec), nanoseconds: Int32(truncatingIfNeeded: st.st_mtim.tv_nsec))
        ctime = FileTimestamp(
            seconds: Int64(st.st_ctim.tv_sec), nanoseconds: Int32(truncatingIfNeeded: st.st_ctim.tv_nsec))
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        linkCount = UInt64(st.st_nlink)
        deviceMajor = nodeinit_major(st.st_rdev)
        deviceMinor = nodeinit_minor(st.st_rdev)
    }

    /// True when fewer blocks are allocated than the size needs: worth asking SEEK_DATA for the data segments.
    public var mayHaveHoles: Bool { kind == .regular && blocks &* 512 < size }
}
