import JSONCoding
import NodeSys
import RuntimeLayout
import SystemPackage

/// A file the init placed into the overlay at boot (hostname, resolv.conf, agent token...), with the upper-dir
/// identity it had right after placing. A capture leaves such a path out while inode, size, mtime and ctime are
/// unchanged; ctime moves on any write, chmod, chown or xattr change, so a later user edit is captured.
///
/// The boot code writes these as `/run/nodeinit/placed.json` (`BootPlacedManifest`, JSON).
public struct BootPlacedRecord: Sendable, Codable, Equatable {
    /// Absolute path in the image, e.g. `/etc/hostname`.
    public var path: String
    public var inode: UInt64
    public var size: Int64
    public var mtime: FileTimestamp
    public var ctime: FileTimestamp

    public init(path: String, inode: UInt64, size: Int64, mtime: FileTimestamp, ctime: FileTimestamp) {
        self.path = path
        self.inode = inode
        self.size = size
        self.mtime = mtime
        self.ctime = ctime
    }

    /// The record for `path` as it is now (call right after placing the file, with the upper-dir status).
    public init(path: String, status: FileStatus) {
        self.init(path: path, inode: status.inode, size: status.size, mtime: status.mtime, ctime: status.ctime)
    }

    /// True while the upper entry is still exactly what the init placed.
    public func isUnchanged(_ status: FileStatus) -> Bool {
        status.inode == inode && status.size == size && status.mtime == mtime && status.ctime == ctime
    }
}

/// The `/run/nodeinit/placed.json` document: `{"version":1,"entries":[{"path":"/etc/hostname","inode":12,
/// "size":6,"mtime":{"seconds":1700000000,"nanoseconds":5},"ctime":{...}}]}`.
public struct BootPlacedManifest: Sendable, Codable, Equatable {
    public static let defaultPath = RuntimeLayout.node.placedManifest
    public var version: Int
    public var entries: [BootPlacedRecord]

    public init(entries: [BootPlacedRecord]) {
        self.version = 1
        self.entries = entries
    }
}

extension BootPlacedManifest {
    /// Records the current upper-dir identity of `paths` (absolute image paths, e.g. `/etc/hostname`), for the
    /// boot code to call right after placing them. Paths missing from the upper are skipped (nothing to hide).
    public static func record(paths: [String], upperDirectory: String) throws -> BootPlacedManifest {
        let upper = try FileTree.openAnchor(FilePath(upperDirectory))
        defer { FileTree.closeQuietly(upper) }
        var entries: [BootPlacedRecord] = []
        for path in paths {
            var components = path.split(separator: "/").map(String.init)
            guard let last = components.popLast() else { continue }
            var directory = upper
            var opened: [FileDescriptor] = []
            defer { opened.forEach(FileTree.closeQuietly) }
            var missing = false
            for component in components {
                guard let next = try? FileTree.openDirectory(in: directory, component) else { missing = true; break }
                opened.append(next)
                directory = next
            }
            if missing { continue }
            if let status = try FileTree.statusIfPresent(in: directory, last) {
                entries.append(
                    BootPlacedRecord(path: "/" + (components + [last]).joined(separator: "/"), status: status))
            }
        }
        return BootPlacedManifest(entries: entries)
    }

    /// The manifest as JSON, as `OverlayCapture.loadBootPlaced` reads it.
    public func json() throws -> [UInt8] {
        try JSONCoding.encode(self)
    }
}
