import NodeSys
import OverlayCapture
import SystemPackage

/// The open directories from the image root down to the directory the last entry was applied in.
///
/// A layer lists a tree depth-first, so the next entry's parent shares most of its path with the last one's.
/// Opening from the deepest common ancestor costs one `openat(O_NOFOLLOW | O_DIRECTORY)` per new component
/// instead of one per component of the whole path (2,000 nested directories were 2,000,000 opens, 17 s).
///
/// Safety is that of a walk from the root: every descriptor here was opened component by component from the root
/// without following a symlink, and the chain always ends at the parent of the entry being applied. An entry only
/// creates, replaces or removes children of that parent (and whiteouts and opaque markers what lies below them),
/// never a directory of the chain itself; a later entry that turns `a/b` into a symlink is applied with the chain
/// cut back to `a`, so `a/b/x` opens `b` again and meets the symlink. `forget(_:)` cuts the chain wherever the
/// applier removes or replaces a path, so a stale descriptor of a removed directory can never be reused even if
/// that ordering changes.
///
/// At most `descriptorLimit` descriptors stay open: those of the deepest directories. Above them the chain keeps
/// only names, and a path that climbs past the open window is walked again from the deepest open ancestor or the
/// root (once per climb, not per entry, in a depth-first layer).
struct DirectoryChain {
    /// The components from the root, `names[i]` being the directory `names[0...i]`.
    private var names: [PathBytes] = []
    /// The open directory for `names[0...i]`, or nil when it fell out of the open window.
    private var descriptors: [FileDescriptor?] = []
    let descriptorLimit: Int

    init(descriptorLimit: Int = 128) {
        self.descriptorLimit = max(descriptorLimit, 1)
    }

    /// How many descriptors the chain holds open (for tests of the bound).
    var openDescriptorCount: Int { descriptors.lazy.filter { $0 != nil }.count }

    /// The directory `components` below `root`, opened from the deepest cached ancestor; missing directories are
    /// created 0755 when `create` is set (layers may omit parents). The descriptor belongs to the chain and stays
    /// valid until the next `open`, `forget` or `closeAll`; `root` is not owned.
    mutating func open(
        _ components: [PathBytes], below root: FileDescriptor, create: Bool, entry: PathBytes
    ) throws(LayerApplier.Error) -> FileDescriptor {
        var common = 0
        let shared = min(names.count, components.count)
        while common < shared && names[common] == components[common] { common += 1 }
        // Start below the deepest ancestor still open within the shared prefix (the root when none is).
        var start = 0
        var current = root
        var index = common
        while index > 0 {
            index -= 1
            if let descriptor = descriptors[index] {
                start = index + 1
                current = descriptor
                break
            }
        }
        truncate(to: start)
        for component in components[start...] {
            let next = try DirectoryChain.openComponent(component, in: current, create: create, entry: entry)
            push(component, next)
            current = next
        }
        return current
    }

    /// Drops the cached directories at and below `components` (a path the applier is about to remove or replace).
    mutating func forget(_ components: [PathBytes]) {
        // The chain is the parent of the current entry, shorter than any path it changes: the usual case is O(1).
        guard !components.isEmpty, names.count >= components.count else { return }  // the root is never removed
        if names[0..<components.count].elementsEqual(components) { truncate(to: components.count - 1) }
    }

    mutating func closeAll() { truncate(to: 0) }

    private mutating func truncate(to count: Int) {
        while names.count > count {
            names.removeLast()
            if let descriptor = descriptors.removeLast() { FileTree.closeQuietly(descriptor) }
        }
    }

    private mutating func push(_ name: PathBytes, _ descriptor: FileDescriptor) {
        names.append(name)
        descriptors.append(descriptor)
        // Keep only the deepest `descriptorLimit` open; the one falling out of the window is closed now.
        let leaving = descriptors.count - descriptorLimit - 1
        if leaving >= 0, let old = descriptors[leaving] {
            FileTree.closeQuietly(old)
            descriptors[leaving] = nil
        }
    }

    /// Opens (or creates, then opens) the subdirectory `component` of `directory` without following a symlink.
    /// The caller owns the result. ELOOP, or ENOTDIR on a symlink, is `throughSymlink`.
    static func openComponent(
        _ component: PathBytes, in directory: FileDescriptor, create: Bool, entry: PathBytes
    ) throws(LayerApplier.Error) -> FileDescriptor {
        do {
            do {
                return try FileTree.openDirectory(in: directory, component)
            } catch let error where error.errno == .noSuchFileOrDirectory && create {
                try FileTree.makeDirectory(in: directory, component, permissions: 0o755)
                return try FileTree.openDirectory(in: directory, component)
            }
        } catch {
            let isSymlink = (try? FileTree.status(in: directory, component))?.kind == .symlink
            if error.errno == .tooManySymbolicLinkLevels || (error.errno == .notDirectory && isSymlink) {
                throw .throughSymlink(entry: entry, component: component)
            }
            if error.errno == .notDirectory { throw .notDirectory(entry: entry, component: component) }
            throw .io(entry: entry, error)
        }
    }
}
