/// What identifies a block device: dracut's devspec forms (`LABEL=`, `UUID=`, `PARTUUID=`, `PARTLABEL=`, `/dev/...`).
public enum DeviceMatch: Sendable, Equatable, CustomStringConvertible {
    case label(String)
    case uuid(String)
    case partitionUUID(String)
    case partitionLabel(String)
    case path(String)

    public var description: String {
        switch self {
        case .label(let value): return "LABEL=\(value)"
        case .uuid(let value): return "UUID=\(value)"
        case .partitionUUID(let value): return "PARTUUID=\(value)"
        case .partitionLabel(let value): return "PARTLABEL=\(value)"
        case .path(let value): return value
        }
    }

    /// True when `identity` is the device this spec names. UUIDs compare without case (blkid prints lowercase,
    /// people type either).
    public func matches(_ identity: DeviceIdentity) -> Bool {
        switch self {
        case .label(let value): return identity.label == value
        case .uuid(let value): return identity.uuid?.lowercased() == value.lowercased()
        case .partitionUUID(let value): return identity.partitionUUID?.lowercased() == value.lowercased()
        case .partitionLabel(let value): return identity.partitionLabel == value
        case .path(let value): return identity.path == value
        }
    }
}

/// What libblkid found on one block device.
public struct DeviceIdentity: Sendable, Equatable {
    /// `/dev/<name>`.
    public var path: String
    /// File system type (`ext4`, `xfs`...), nil when no file system was recognised.
    public var fileSystemType: String?
    public var label: String?
    public var uuid: String?
    public var partitionUUID: String?
    public var partitionLabel: String?

    public init(
        path: String, fileSystemType: String? = nil, label: String? = nil, uuid: String? = nil,
        partitionUUID: String? = nil, partitionLabel: String? = nil
    ) {
        self.path = path
        self.fileSystemType = fileSystemType
        self.label = label
        self.uuid = uuid
        self.partitionUUID = partitionUUID
        self.partitionLabel = partitionLabel
    }
}
