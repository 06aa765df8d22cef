import Glibc
import SystemPackage

extension ConfinedTree {
    /// `cp -a` of `sourcePath` in `source` to `destinationPath` in `destination`, both confined, never following a
    /// symlink below either (symlinks are copied as symlinks). Directories are merged into an existing directory
    /// (dotfiles included); a non-directory in the way is replaced. Owner, mode and mtime are kept.
    /// The destination's parent must exist. `copied` is called once per copied entry (in-tree destination path).
    public static func copy(
        from source: ConfinedTree, _ sourcePath: String, to destination: ConfinedTree, _ destinationPath: String,
        copied: @escaping (String) -> Void = { _ in }
    ) throws(Error) {
        let (sourceParent, sourceName) = try source.openParent(sourcePath)
        defer { FileTree.closeQuietly(sourceParent) }
        let (destinationParent, destinationName) = try destination.openParent(destinationPath)
        defer { FileTree.closeQuietly(destinationParent) }
        guard let sourceName, let destinationName else {
            throw .wrongKind(
                tree: destination.path, path: destinationPath, expected: "path below the top", found: "top")
        }
        var copier = TreeCopier(source: source, destination: destination, copied: copied)
        try copier.copyEntry(
            from: sourceParent, sourceName, sourcePath: normalized(sourcePath),
            to: destinationParent, destinationName, destinationPath: normalized(destinationPath))
    }

    static func normalized(_ path: String) -> String {
        var text = path
        while text.hasSuffix("/") && text.count > 1 { text.removeLast() }
        return text.hasPrefix("/") ? text : "/" + text
    }
}

/// The fd-anchored recursion behind `ConfinedTree.copy`.
struct TreeCopier {
    let source: ConfinedTree
    let destination: ConfinedTree
    let copied: (String) -> Void

    init(source: ConfinedTree, destination: ConfinedTree, copied: @escaping (String) -> Void) {
        self.source = source
        self.destination = destination
        self.copied = copied
    }

    func sourceError(_ error: FileTree.Error, _ path: String) -> ConfinedTree.Error {
        ConfinedTree.wrap(error, tree: source.path, path: path)
    }

    func destinationError(_ error: FileTree.Error, _ path: String) -> ConfinedTree.Error {
        ConfinedTree.wrap(error, tree: destination.path, path: path)
    }

    mutating func copyEntry(
        from sourceDirectory: FileDescriptor, _ sourceName: String, sourcePath: String,
        to destinationDirectory: FileDescriptor, _ destinationName: String, destinationPath: String
    ) throws(ConfinedTree.Error) {
        let status: FileStatus
        do { status = try FileTree.status(in: sourceDirectory, sourceName) } catch {
            throw sourceError(error, sourcePath)
        }
        let existing: FileStatus?
        do { existing = try FileTree.statusIfPresent(in: destinationDirectory, destinationName) } catch {
            throw destinationError(error, destinationPath)
        }
        do {
            if let existing, !(existing.kind == .directory && status.kind == .directory) {
                try FileTree.removeTree(in: destinationDirectory, destinationName)
            }
        } catch {
            throw destinationError(error, destinationPath)
        }
        switch status.kind {
        case .directory:
            do {
                if existing?.kind != .directory {
                    try FileTree.makeDirectory(in: destinationDirectory, destinationName, permissions: 0o700)
                }
            } catch { throw destinationError(error, destinationPath) }
            let from: FileDescriptor
            do { from = try FileTree.openDirectory(in: sourceDirectory, sourceName) } catch {
                throw sourceError(error, sourcePath)
            }
            defer { FileTree.closeQuietly(from) }
            let to: FileDescriptor
            do { to = try FileTree.openDirectory(in: destinationDirectory, destinationName) } catch {
                throw destinationError(error, destinationPath)
            }
            defer { FileTree.closeQuietly(to) }
            let listing: FileTree.Listing
            do { listing = try FileTree.list(from, path: sourcePath) } catch { throw sourceError(error, sourcePath) }
            for name in listing.names {
                try copyEntry(
                    from: from, name, sourcePath: sourcePath + "/" + name,
                    to: to, name, destinationPath: destinationPath + "/" + name)
            }
        case .regular:
            let from: FileDescriptor
            do { from = try FileTree.openForReading(in: sourceDirectory, sourceName) } catch {
                throw sourceError(error, sourcePath)
            }
            defer { FileTree.closeQuietly(from) }
            let to: FileDescriptor
            do { to = try FileTree.createFile(in: destinationDirectory, destinationName, permissions: 0o600) } catch {
                throw destinationError(error, destinationPath)
            }
            defer { FileTree.closeQuietly(to) }
            try copyData(from, to, sourcePath: sourcePath, destinationPath: destinationPath)
        case .symlink:
            do {
                let target = try FileTree.readLink(in: sourceDirectory, sourceName)
                try FileTree.makeSymlink(in: destinationDirectory, destinationName, target: target)
            } catch { throw destinationError(error, destinationPath) }
        case .characterDevice, .blockDevice, .fifo:
            let kind: FileTree.NodeKind =
                status.kind == .fifo
                ? .fifo
                : status.kind == .blockDevice
                    ? .blockDevice(major: status.deviceMajor, minor: status.deviceMinor)
                    : .characterDevice(major: status.deviceMajor, minor: status.deviceMinor)
            do {
                try FileTree.makeNode(
                    in: destinationDirectory, destinationName, kind: kind, permissions: status.permissions)
            } catch {
                throw destinationError(error, destinationPath)
            }
        case .socket, .unknown:
            return
        }
        do {
            do {
                try FileTree.changeOwner(in: destinationDirectory, destinationName, uid: status.uid, gid: status.gid)
            } catch  where error.errno == .notPermitted {
                // An NFS persistent store with root squashing: the copy keeps the server's owner.
            }
            if status.kind != .symlink {
                try FileTree.changeMode(in: destinationDirectory, destinationName, permissions: status.permissions)
            }
            try FileTree.setTimes(in: destinationDirectory, destinationName, modified: status.mtime)
        } catch {
            throw destinationError(error, destinationPath)
        }
        copied(destinationPath)
    }

    func copyData(_ from: FileDescriptor, _ to: FileDescriptor, sourcePath: String, destinationPath: String)
        throws(ConfinedTree.Error)
    {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 128 * 1024, alignment: 8)
        defer { buffer.deallocate() }
        var offset: Int64 = 0
        while true {
            let count: Int
            do { count = try FileTree.read(from, into: buffer, at: offset, path: sourcePath) } catch {
                throw sourceError(error, sourcePath)
            }
            if count == 0 { return }
            do {
                try FileTree.writeAll(to, UnsafeRawBufferPointer(rebasing: buffer[0..<count]), path: destinationPath)
            } catch {
                throw destinationError(error, destinationPath)
            }
            offset &+= Int64(count)
        }
    }
}
