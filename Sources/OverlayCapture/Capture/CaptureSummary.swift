/// What a capture wrote, JSON-encodable (served by the agent, printed by `nodeinit capture --summary`).
public struct CaptureSummary: Sendable, Codable, Equatable {
    /// Number of entries of one kind and the data bytes they carry (file contents; 0 for other kinds).
    public struct Tally: Sendable, Codable, Equatable {
        public var count: Int = 0
        public var bytes: Int64 = 0

        mutating func add(_ size: Int64) {
            count += 1
            bytes += size
        }
    }

    public struct PathRecord: Sendable, Codable, Equatable {
        public var path: String
        public var kind: String
        public var size: Int64
    }

    public struct Skipped: Sendable, Codable, Equatable {
        public var path: String
        public var reason: String
    }

    public var regularFiles = Tally()
    public var directories = Tally()
    public var symlinks = Tally()
    public var hardLinks = Tally()
    public var devices = Tally()
    public var fifos = Tally()
    /// Deleted paths (`.wh.<name>` entries).
    public var whiteouts = Tally()
    /// Directories replaced wholesale (`.wh..wh..opq` entries).
    public var opaqueDirectories = Tally()
    /// Entries dropped by an exclusion pattern (subtrees count once).
    public var excluded = 0
    /// Boot-placed files still unchanged, hence left out.
    public var unchangedBootPlaced = 0
    /// Entries that cannot be represented (sockets, non-UTF-8 names, reserved `.wh.` names) or vanished mid-walk.
    public var skipped: [Skipped] = []
    /// Files whose size or mtime changed while being read: their data in the layer may be torn (padded with zeros
    /// if they shrank, cut at the header size if they grew).
    public var changedWhileReading: [String] = []
    /// Exclusion patterns in force.
    public var exclusionPatterns: [String] = []
    /// Uncompressed tar bytes written.
    public var streamBytes: Int64 = 0
    /// Bytes after compression, when compressed.
    public var compressedBytes: Int64?
    /// Every emitted path with its kind, when requested.
    public var paths: [PathRecord]?

    public init() {}

    /// Entries written to the layer.
    public var totalEntries: Int {
        regularFiles.count + directories.count + symlinks.count + hardLinks.count + devices.count + fifos.count
            + whiteouts.count + opaqueDirectories.count
    }
}
