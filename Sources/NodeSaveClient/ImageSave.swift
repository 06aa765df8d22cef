import LayerApply
import NodeSys
import OverlayCapture
import SystemPackage

/// `nodeinit save <node> <image-dir> <new-image-dir>`: pulls the node's layer, applies it to a copy
/// of the image, and renames the copy into place. The original image is never written to.
///
/// The copy is made by `cp -a --reflink=auto`: it already preserves everything an image holds
/// (owners, modes, timestamps, hard links, xattrs including capabilities and ACLs, device nodes,
/// sparse files), and on btrfs/XFS it shares extents instead of copying data, so saving a large image
/// costs seconds. This runs on the server, where coreutils is present; the node never copies images.
public struct ImageSave {
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case imageNotDirectory(String)
        case targetExists(String)
        case targetParentMissing(String)
        case staging(String)
        case copy(String)
        case apply(String)
        case rename(String)

        public var description: String {
            switch self {
            case .imageNotDirectory(let path): "image \(path) is not a directory"
            case .targetExists(let path): "\(path) already exists; save never overwrites an image"
            case .targetParentMissing(let path): "directory \(path) (where the new image goes) does not exist"
            case .staging(let reason): "\(reason)"
            case .copy(let reason): "copying the image failed: \(reason)"
            case .apply(let reason): "applying the layer failed: \(reason)"
            case .rename(let reason): "\(reason)"
            }
        }
    }

    public struct Result: Sendable {
        public var pull: LayerPull.Result
        public var applied: ApplySummary
    }

    public var pull: LayerPull
    /// Where to keep the pulled layer (for `podman`/`umoci`); nil deletes it after applying.
    public var keepLayerAt: String?

    public init(pull: LayerPull, keepLayerAt: String? = nil) {
        self.pull = pull
        self.keepLayerAt = keepLayerAt
    }

    public func run(
        image: String, newImage: String, onProgress: @escaping (PullProgress) -> Void = { _ in },
        log: (String) -> Void = { _ in }
    ) throws -> Result {
        let source = Self.trimmed(image)
        let target = Self.trimmed(newImage)
        guard PathOperations.isDirectory(source) else { throw Error.imageNotDirectory(source) }
        guard !PathOperations.exists(target) else { throw Error.targetExists(target) }
        let slash = target.lastIndex(of: "/")
        let parent = slash.map { $0 == target.startIndex ? "/" : String(target[..<$0]) } ?? "."
        let name = slash.map { String(target[target.index(after: $0)...]) } ?? target
        guard PathOperations.isDirectory(parent) else { throw Error.targetParentMissing(parent) }
        let prefix = parent == "/" ? "/" : parent + "/"
        // Everything in flight lives in one directory created exclusively under a random name (mode 0700):
        // a name others can guess next to the target could be a planted symlink redirecting the copy and
        // the layer, as root, into another directory.
        let work: String
        do { work = try PathOperations.makeUniqueDirectory(prefix: "\(prefix).\(name).saving-") } catch {
            throw Error.staging(error.description)
        }
        let staging = work + "/image"
        let layerPath = keepLayerAt ?? work + "/layer.tar"
        defer { try? ChildCommand.run(["rm", "-rf", "--one-file-system", "--", work]) }

        // Pull first: an unreachable node or a refused request fails before any copying.
        log("pulling the layer from \(pull.client.endpoint) into \(layerPath)")
        let pulled = try pull.run(to: layerPath, onProgress: onProgress)
        log("copying \(source) to \(staging)")
        do {
            try ChildCommand.run(["cp", "-a", "--reflink=auto", "--no-target-directory", "--", source, staging])
        } catch {
            throw Error.copy(error.description)
        }
        log("applying the layer to \(staging)")
        let applied: ApplySummary
        do {
            let layer = try FileDescriptor.open(FilePath(layerPath), .readOnly, options: [.closeOnExec])
            defer { try? layer.close() }
            applied = try LayerApplier.apply(FileDescriptorSource(layer), to: FilePath(staging))
        } catch {
            throw Error.apply("\(error)")
        }
        guard !PathOperations.exists(target) else { throw Error.targetExists(target) }
        do { try PathOperations.rename(staging, to: target) } catch { throw Error.rename(error.description) }
        log("saved \(target)")
        return Result(pull: pulled, applied: applied)
    }

    static func trimmed(_ path: String) -> String {
        var result = path
        while result.count > 1 && result.hasSuffix("/") { result.removeLast() }
        return result
    }
}
