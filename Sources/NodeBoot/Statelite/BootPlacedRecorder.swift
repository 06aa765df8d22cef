import JSONCoding
import NodeSys
import OverlayCapture

/// Remembers which paths the init itself wrote into the overlay's upper layer (symlinks replacing litefile paths,
/// mount-point placeholders, `/.statelite`), so node save never reports them as changes made on the node. The
/// records are merged into `/run/nodeinit/placed.json` (OverlayCapture's `BootPlacedManifest`), keeping entries
/// other boot code wrote there.
public final class BootPlacedRecorder {
    /// The overlay's upper dir, nil when the root is not an overlay (nothing is recorded then).
    public let upperDir: String?
    public let manifestPath: String
    private var paths: [String] = []

    public init(upperDir: String?, manifestPath: String = BootPlacedManifest.defaultPath) {
        self.upperDir = upperDir
        self.manifestPath = manifestPath
    }

    /// Notes `path` (absolute, in the image) as placed by the init; its upper status is read in `write()`.
    public func placed(_ path: String) {
        guard upperDir != nil, !paths.contains(path) else { return }
        paths.append(path)
    }

    public var placedPaths: [String] { paths }

    /// Reads each placed path's identity in the upper dir and merges the records into the manifest. Paths no
    /// longer in the upper (removed again) are skipped. Returns the number of records written.
    @discardableResult
    public func write() throws -> Int {
        guard let upperDir, !paths.isEmpty else { return 0 }
        let upper = try ConfinedTree(upperDir)
        var records: [BootPlacedRecord] = []
        for path in paths {
            guard let status = try? upper.status(path) else { continue }
            records.append(BootPlacedRecord(path: path, status: status))
        }
        var manifest = BootPlacedManifest(entries: [])
        if let text = try? FileContentsReader.read(manifestPath),
            let existing = try? JSONCoding.decode(BootPlacedManifest.self, from: text)
        {
            manifest = existing
        }
        let replaced = Set(records.map(\.path))
        manifest.entries = manifest.entries.filter { !replaced.contains($0.path) } + records
        let data = try JSONCoding.encode(manifest)
        let slash = manifestPath.lastIndex(of: "/").map { String(manifestPath[..<$0]) } ?? "."
        let directory = try ConfinedTree(slash.isEmpty ? "/" : slash)
        let name = String(
            manifestPath[manifestPath.index(after: manifestPath.lastIndex(of: "/") ?? manifestPath.startIndex)...])
        try directory.writeFile(name, Array(data), permissions: 0o600)
        return records.count
    }
}

/// Reads a whole small file by absolute path (the manifest lives in the initramfs's /run, a trusted path).
enum FileContentsReader {
    static func read(_ path: String) throws -> [UInt8] {
        let slash = path.lastIndex(of: "/") ?? path.startIndex
        let directory = try ConfinedTree(slash == path.startIndex ? "/" : String(path[..<slash]))
        return try directory.readFile(String(path[path.index(after: slash)...]))
    }
}
