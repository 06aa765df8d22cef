import NodeSys
import RuntimeLayout
import SystemPackage

/// Which directory holds the node's changes. nodeinit's own overlays name it at boot; WalT's walt-init builds its
/// overlay after nodeinit has handed over, and its upper depends on the boot mode walt-init chose, so it is found at
/// each capture from `/bin/walt-env` (see `WaltLayout`).
public enum CaptureUpper: Sendable, Equatable, CustomStringConvertible {
    case directory(FilePath)
    /// walt-init's overlay, found under `root` (the booted system's `/`; a test's node root).
    case walt(root: FilePath)

    public enum Error: Swift.Error, CustomStringConvertible {
        case unreadableEnvironment(path: String, FileContents.Error)
        case walt(path: String, WaltLayout.Error)

        public var description: String {
            switch self {
            case .unreadableEnvironment(let path, let error):
                "cannot read \(path) to find walt-init's overlay: \(error)"
            case .walt(let path, let error):
                "\(error) (read \(path))"
            }
        }
    }

    /// The upper directory to capture now.
    public func resolve() throws(Error) -> FilePath {
        switch self {
        case .directory(let path):
            return path
        case .walt(let root):
            let environmentPath = Self.join(root, WaltLayout.environmentFile)
            let text: String
            do {
                text = try FileContents.string(at: environmentPath, limit: 1 << 20)
            } catch {
                throw .unreadableEnvironment(path: environmentPath, error)
            }
            do {
                return FilePath(Self.join(root, try WaltLayout.upperDirectory(environment: text)))
            } catch {
                throw .walt(path: environmentPath, error)
            }
        }
    }

    /// Patterns a capture of this upper always leaves out besides the defaults.
    public var exclusions: [String] {
        switch self {
        case .directory: []
        case .walt: WaltLayout.saveExclusions
        }
    }

    public var description: String {
        switch self {
        case .directory(let path): path.string
        case .walt(let root): "walt-init's overlay (from \(Self.join(root, WaltLayout.environmentFile)))"
        }
    }

    static func join(_ root: FilePath, _ absolute: String) -> String {
        let base = root.string.hasSuffix("/") ? String(root.string.dropLast()) : root.string
        return base + absolute
    }
}

extension CaptureOptions {
    /// Options for capturing `upper` as it is now: its directory resolved, its own exclusions before `exclusions`.
    public init(
        upper: CaptureUpper, mergedDirectory: FilePath?, exclusions: [String] = [], useDefaultExclusions: Bool = true,
        readImageExclusions: Bool = true, bootPlaced: [BootPlacedRecord] = [], recordPaths: Bool = false
    ) throws(CaptureUpper.Error) {
        self.init(
            upperDirectory: try upper.resolve(), mergedDirectory: mergedDirectory,
            exclusions: upper.exclusions + exclusions, useDefaultExclusions: useDefaultExclusions,
            readImageExclusions: readImageExclusions, bootPlaced: bootPlaced, recordPaths: recordPaths)
    }
}
