import NodeSys
import OverlayCapture
import SystemPackage

/// What an apply did, JSON-encodable.
public struct ApplySummary: Sendable, Codable, Equatable {
    public var entries = 0
    public var files = 0
    public var bytes: Int64 = 0
    public var directories = 0
    public var symlinks = 0
    public var hardLinks = 0
    public var specialFiles = 0
    public var whiteouts = 0
    public var opaqueDirectories = 0
    public init() {}
}

/// Applies an OCI layer tar to a plain directory image (an xCAT rootimg, a WalT-style tree).
///
/// Every path is resolved from the image root one component at a time with openat(O_NOFOLLOW|O_DIRECTORY), so an
/// entry can never be written through a symlink, whatever the image or earlier entries contain (the descriptors of
/// the current parent chain are kept open between entries: `DirectoryChain`); names with `..`
/// or a leading `/` are refused (see `LayerPath`); hard links must point at an entry already inside the image.
/// Ownership is numeric (uid/gid from the layer; names are ignored, as container runtimes do).
public struct LayerApplier {
    public enum Error: Swift.Error, CustomStringConvertible {
        case path(LayerPath.Error)
        case throughSymlink(entry: PathBytes, component: PathBytes)
        case notDirectory(entry: PathBytes, component: PathBytes)
        case hardLinkTarget(entry: PathBytes, target: PathBytes, reason: String)
        case io(entry: PathBytes, FileTree.Error)
        case setup(String)

        public var description: String {
            switch self {
            case .path(let error): return "refused: \(error)"
            case .throughSymlink(let entry, let component):
                return
                    "refused: entry '\(DisplayText.safe(entry))' would be written through the symlink '\(DisplayText.safe(component))'"
            case .notDirectory(let entry, let component):
                return
                    "refused: entry '\(DisplayText.safe(entry))' needs '\(DisplayText.safe(component))' to be a directory, but it is not"
            case .hardLinkTarget(let entry, let target, let reason):
                return "refused: hard link '\(DisplayText.safe(entry))' -> '\(DisplayText.safe(target))': \(reason)"
            case .io(let entry, let error):
                return "entry '\(DisplayText.safe(entry))': \(error)"
            case .setup(let message): return message
            }
        }
    }

    private let root: FileDescriptor
    /// Paths (joined components) this layer created: whiteouts and opaque markers only hide lower content.
    private var created: Set<PathBytes> = []
    /// Directory mtimes are set at the end, after their children stopped changing them.
    /// Kept as joined paths: one array of components per directory made a 2,000-deep layer hold 2,000,000 arrays.
    private var directoryTimes: [(PathBytes, FileTimestamp)] = []
    private var parents: DirectoryChain
    public private(set) var summary = ApplySummary()
    private let buffer: UnsafeMutableRawBufferPointer

    private init(root: FileDescriptor, descriptorLimit: Int) {
        self.root = root
        parents = DirectoryChain(descriptorLimit: descriptorLimit)
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
    }

    /// Applies the tar read from `source` (plain, gzip or zstd) onto the directory `image`.
    public static func apply<Source: ByteSource>(_ source: Source, to image: FilePath) throws -> ApplySummary {
        try apply(source, to: image, descriptorLimit: 128)
    }

    /// `descriptorLimit`: how many directories of the parent chain stay open (tests use small ones).
    static func apply<Source: ByteSource>(_ source: Source, to image: FilePath, descriptorLimit: Int) throws
        -> ApplySummary
    {
        let root: FileDescriptor
        do { root = try FileTree.openAnchor(image) } catch {
            throw Error.setup("cannot open image directory: \(error)")
        }
        defer { FileTree.closeQuietly(root) }
        var applier = LayerApplier(root: root, descriptorLimit: descriptorLimit)
        defer { applier.release() }
        let input = try AutoDecompressingSource(source)
        var reader = TarReader(source: input)
        defer { reader.close() }
        while let entry = try reader.next() {
            try applier.apply(entry, from: &reader)
        }
        try applier.finishDirectories()
        return applier.summary
    }

    private mutating func release() {
        parents.closeAll()
        buffer.deallocate()
    }

    private mutating func apply<Source: ByteSource>(_ entry: TarEntry, from reader: inout TarReader<Source>) throws {
        summary.entries += 1
        let components: [PathBytes]
        do { components = try LayerPath.components(entry.path) } catch { throw Error.path(error) }
        guard let last = components.last else { return }  // the root itself: the image root keeps its attributes
        let meaning: LayerPath.Meaning
        do { meaning = try LayerPath.meaning(of: last, in: entry.path) } catch { throw Error.path(error) }
        let parentComponents = Array(components.dropLast())
        let parent = try parents.open(parentComponents, below: root, create: true, entry: entry.path)
        let parentKey = LayerApplier.join(parentComponents)
        do {
            switch meaning {
            case .opaque:
                // Only children of `parent` go, never `parent` or its ancestors: the chain stays valid.
                try hideOlderContent(of: parent, key: parentKey)
                summary.opaqueDirectories += 1
            case .whiteout(let name):
                let key = parentKey.appending(name)
                if !created.contains(key) {
                    parents.forget(parentComponents + [name])
                    try FileTree.removeTree(in: parent, name)
                }
                summary.whiteouts += 1
            case .entry(let name):
                created.insert(parentKey.appending(name))
                try create(entry, name: name, in: parent, components: components, reader: &reader)
            }
        } catch let error as FileTree.Error {
            throw Error.io(entry: entry.path, error)
        }
    }

    /// Removes everything below `directory` that this layer did not create. Entries the layer already created
    /// stay, but directories among them are pruned too: the marker hides all older content of the subtree,
    /// wherever it appears in the layer.
    private func hideOlderContent(of directory: FileDescriptor, key: PathBytes) throws {
        let listing = try FileTree.list(directory, path: key.description)
        for child in listing.entries {
            let childKey = key.appending(child)
            guard created.contains(childKey) else {
                try FileTree.removeTree(in: directory, child)
                continue
            }
            guard try FileTree.status(in: directory, child).kind == .directory else { continue }
            let childDirectory = try FileTree.openDirectory(in: directory, child)
            defer { FileTree.closeQuietly(childDirectory) }
            try hideOlderContent(of: childDirectory, key: childKey)
        }
    }

    private mutating func create<Source: ByteSource>(
        _ entry: TarEntry, name: PathBytes, in parent: FileDescriptor, components: [PathBytes],
        reader: inout TarReader<Source>
    ) throws {
        // Replace anything in the way, except that a directory over a directory only updates attributes.
        if let existing = try FileTree.statusIfPresent(in: parent, name) {
            if !(existing.kind == .directory && entry.kind == .directory) {
                parents.forget(components)
                try FileTree.removeTree(in: parent, name)
            }
        }
        switch entry.kind {
        case .directory:
            if try FileTree.statusIfPresent(in: parent, name) == nil {
                try FileTree.makeDirectory(in: parent, name, permissions: 0o700)
            }
            try setAttributes(entry, name: name, in: parent, mode: true)
            directoryTimes.append((LayerApplier.join(components), entry.modified))
            summary.directories += 1
            return
        case .regular:
            let file = try FileTree.createFile(in: parent, name, permissions: 0o600)
            defer { FileTree.closeQuietly(file) }
            while true {
                let count = try reader.readData(into: buffer)
                if count == 0 { break }
                try FileTree.writeAll(
                    file, UnsafeRawBufferPointer(rebasing: buffer[0..<count]), path: entry.path.description)
                summary.bytes += Int64(count)
            }
            summary.files += 1
            try setAttributes(entry, name: name, in: parent, mode: true)
        case .symlink(let target):
            try FileTree.makeSymlink(in: parent, name, target: target)
            summary.symlinks += 1
            try setAttributes(entry, name: name, in: parent, mode: false)
        case .hardLink(let target):
            try link(entry, to: target, name: name, in: parent)
            summary.hardLinks += 1
            return  // shares the target's inode and attributes
        case .characterDevice(let major, let minor):
            try FileTree.makeNode(
                in: parent, name, kind: .characterDevice(major: major, minor: minor), permissions: 0o600)
            summary.specialFiles += 1
            try setAttributes(entry, name: name, in: parent, mode: true)
        case .blockDevice(let major, let minor):
            try FileTree.makeNode(in: parent, name, kind: .blockDevice(major: major, minor: minor), permissions: 0o600)
            summary.specialFiles += 1
            try setAttributes(entry, name: name, in: parent, mode: true)
        case .fifo:
            try FileTree.makeNode(in: parent, name, kind: .fifo, permissions: 0o600)
            summary.specialFiles += 1
            try setAttributes(entry, name: name, in: parent, mode: true)
        }
        try FileTree.setTimes(in: parent, name, modified: entry.modified)
    }

    /// Owner first (chown clears setuid bits and capabilities), then mode, then xattrs.
    private func setAttributes(_ entry: TarEntry, name: PathBytes, in parent: FileDescriptor, mode: Bool) throws {
        try FileTree.changeOwner(in: parent, name, uid: entry.uid, gid: entry.gid)
        if mode { try FileTree.changeMode(in: parent, name, permissions: entry.permissions) }
        for attribute in entry.xattrs {
            try FileTree.setExtendedAttribute(in: parent, name, attribute)
        }
    }

    private mutating func link(_ entry: TarEntry, to target: PathBytes, name: PathBytes, in parent: FileDescriptor)
        throws
    {
        let components: [PathBytes]
        do { components = try LayerPath.components(target) } catch {
            throw Error.hardLinkTarget(entry: entry.path, target: target, reason: "\(error)")
        }
        guard let last = components.last else {
            throw Error.hardLinkTarget(entry: entry.path, target: target, reason: "names the image root")
        }
        let targetParent: FileDescriptor
        do {
            targetParent = try openDirectoryPath(Array(components.dropLast()), entry: entry.path, create: false)
        } catch let error as Error {
            throw Error.hardLinkTarget(entry: entry.path, target: target, reason: "\(error)")
        }
        defer { FileTree.closeQuietly(targetParent) }
        guard let status = try FileTree.statusIfPresent(in: targetParent, last) else {
            throw Error.hardLinkTarget(entry: entry.path, target: target, reason: "target does not exist in the image")
        }
        if status.kind == .directory {
            throw Error.hardLinkTarget(entry: entry.path, target: target, reason: "target is a directory")
        }
        try FileTree.makeHardLink(from: targetParent, last, in: parent, name)
    }

    /// Opens `components` below the root on a walk of its own (hard-link targets, off the parent chain); the
    /// returned descriptor is owned by the caller.
    private func openDirectoryPath(_ components: [PathBytes], entry: PathBytes, create: Bool) throws -> FileDescriptor {
        var current = try dupRoot()
        for component in components {
            let next: FileDescriptor
            do {
                next = try DirectoryChain.openComponent(component, in: current, create: create, entry: entry)
            } catch {
                FileTree.closeQuietly(current)
                throw error
            }
            FileTree.closeQuietly(current)
            current = next
        }
        return current
    }

    /// `a/b/c`, built in one buffer (folding `appending` copied the growing prefix once per component).
    static func join(_ components: [PathBytes]) -> PathBytes {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(components.reduce(components.count) { $0 + $1.count })
        for component in components {
            if !bytes.isEmpty { bytes.append(UInt8(ascii: "/")) }
            bytes.append(contentsOf: component.bytes)
        }
        return PathBytes(bytes)
    }

    private func dupRoot() throws -> FileDescriptor {
        do { return try root.duplicate() } catch { throw Error.setup("dup of image root: \(error)") }
    }

    /// Sets the recorded directory times in layer order, through the parent chain (a depth-first layer costs one
    /// open per directory). Setting a time changes no parent's mtime, so the order among them is free; layer order
    /// lets a later entry for the same directory win, as it does for every other attribute.
    private mutating func finishDirectories() throws {
        for (path, time) in directoryTimes {
            let components = path.components
            guard let last = components.last else { continue }
            let parent = try parents.open(Array(components.dropLast()), below: root, create: false, entry: path)
            do { try FileTree.setTimes(in: parent, last, modified: time) } catch {
                throw Error.io(entry: path, error)
            }
        }
        parents.closeAll()
    }
}
