import ExtrasBase64
import NodeSys

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

    /// Paths in the summary: `path` is the name itself when it is valid UTF-8. Linux names are bytes; for one
    /// that is not UTF-8, `path` is its display form (each byte outside valid UTF-8 as `\xNN`, a backslash
    /// doubled, controls escaped) and `pathBase64` holds the exact bytes (standard base64), so nothing is lost.
    public struct PathRecord: Sendable, Codable, Equatable {
        public var path: String
        public var pathBase64: String?
        public var kind: String
        public var size: Int64

        init(path: PathBytes, kind: String, size: Int64) {
            (self.path, pathBase64) = CaptureSummary.encode(path)
            self.kind = kind
            self.size = size
        }
    }

    public struct Skipped: Sendable, Codable, Equatable {
        public var path: String
        public var pathBase64: String?
        public var reason: String

        init(path: PathBytes, reason: String) {
            (self.path, pathBase64) = CaptureSummary.encode(path)
            self.reason = reason
        }
    }

    /// `(text, nil)` for a UTF-8 name, `(display form, base64 of the bytes)` for any other.
    static func encode(_ path: PathBytes) -> (String, String?) {
        if let text = path.string { return (text, nil) }
        return (path.description, Base64.encodeToString(bytes: path.bytes))
    }

    /// The exact bytes a summary path stands for.
    public static func decode(path: String, pathBase64: String?) -> PathBytes? {
        guard let pathBase64 else { return PathBytes(path) }
        return (try? Base64.decode(string: pathBase64)).map { PathBytes($0) }
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
    /// Entries that cannot be represented (sockets, reserved `.wh.` names) or vanished mid-walk.
    public var skipped: [Skipped] = []
    /// Files whose size or mtime changed while being read: their data in the layer may be torn (padded with zeros
    /// if they shrank, cut at the header size if they grew).
    /// Names that are not UTF-8 are in display form here, and their exact bytes in `changedWhileReadingBase64`.
    public var changedWhileReading: [String] = []
    /// Base64 of the exact bytes of each `changedWhileReading` name that is not valid UTF-8 (absent when none).
    public var changedWhileReadingBase64: [String]?
    /// Exclusion patterns in force.
    public var exclusionPatterns: [String] = []
    /// Uncompressed tar bytes written.
    public var streamBytes: Int64 = 0
    /// Bytes after compression, when compressed.
    public var compressedBytes: Int64?
    /// Every emitted path with its kind, when requested.
    public var paths: [PathRecord]?

    public init() {}

    mutating func addChangedWhileReading(_ path: PathBytes) {
        let (text, base64) = CaptureSummary.encode(path)
        changedWhileReading.append(text)
        if let base64 { changedWhileReadingBase64 = (changedWhileReadingBase64 ?? []) + [base64] }
    }

    /// Entries written to the layer.
    public var totalEntries: Int {
        regularFiles.count + directories.count + symlinks.count + hardLinks.count + devices.count + fifos.count
            + whiteouts.count + opaqueDirectories.count
    }
}
