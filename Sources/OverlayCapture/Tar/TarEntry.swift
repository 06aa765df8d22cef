import NodeSys

/// One tar member as OverlayCapture writes and reads it: header fields plus xattrs; data travels separately.
public struct TarEntry: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case regular
        case hardLink(target: PathBytes)
        case symlink(target: PathBytes)
        case characterDevice(major: UInt32, minor: UInt32)
        case blockDevice(major: UInt32, minor: UInt32)
        case directory
        case fifo
    }

    /// Member name as stored, byte for byte (directories conventionally end in `/`).
    public var path: PathBytes
    public var kind: Kind
    /// Permission bits including setuid/setgid/sticky.
    public var permissions: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var userName: String
    public var groupName: String
    /// Number of data bytes following the header (regular files only; 0 for everything else).
    public var size: Int64
    public var modified: FileTimestamp
    public var xattrs: [ExtendedAttribute]

    public init(
        path: PathBytes, kind: Kind, permissions: UInt32 = 0o644, uid: UInt32 = 0, gid: UInt32 = 0,
        userName: String = "", groupName: String = "", size: Int64 = 0,
        modified: FileTimestamp = FileTimestamp(seconds: 0, nanoseconds: 0), xattrs: [ExtendedAttribute] = []
    ) {
        self.path = path
        self.kind = kind
        self.permissions = permissions
        self.uid = uid
        self.gid = gid
        self.userName = userName
        self.groupName = groupName
        self.size = size
        self.modified = modified
        self.xattrs = xattrs
    }

    /// Size of the data area that follows the header (only regular files carry data).
    var dataSize: Int64 {
        if case .regular = kind { return size }
        return 0
    }
}
