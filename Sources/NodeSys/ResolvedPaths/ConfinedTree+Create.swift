import Glibc
import SystemPackage

extension ConfinedTree {
    /// `mkdir -p` inside the tree: every missing component is created with `permissions` (symlinks among the
    /// existing parents are followed inside the tree). Returns the directory, open; `created` gets each in-tree
    /// path this call made, parents first.
    public func ensureDirectory(
        _ inTree: String, permissions: UInt32 = 0o755, created: (String) -> Void = { _ in }
    ) throws(Error) -> FileDescriptor {
        let parts = try components(inTree)
        var current = try open2(".", flags: O_RDONLY | O_DIRECTORY, operation: "open directory")
        var prefix = ""
        for part in parts {
            prefix += prefix.isEmpty ? part : "/" + part
            let next: FileDescriptor
            do {
                next = try open2(prefix, flags: O_RDONLY | O_DIRECTORY, operation: "open directory")
            } catch {
                guard error.errno == .noSuchFileOrDirectory else {
                    FileTree.closeQuietly(current)
                    throw error
                }
                // Only the last component is missing (the previous ones opened): create it next to `current`.
                // A dangling symlink here (ENOENT through a symlink) makes mkdirat fail with EEXIST: refused.
                if case .failure(let errno) = nothingOrErrno({ mkdirat(current.rawValue, part, mode_t(permissions)) }),
                    errno != .fileExists
                {
                    FileTree.closeQuietly(current)
                    throw .system(operation: "mkdir", tree: path, path: "/" + prefix, errno: errno)
                }
                if let status = try? FileTree.status(in: current, part), status.kind == .symlink {
                    let target = (try? FileTree.readLink(in: current, part)) ?? "?"
                    FileTree.closeQuietly(current)
                    throw .symlinkRefused(tree: path, path: "/" + prefix, target: target)
                }
                created("/" + prefix)
                do {
                    next = try open2(prefix, flags: O_RDONLY | O_DIRECTORY, operation: "open directory")
                } catch {
                    FileTree.closeQuietly(current)
                    throw error
                }
            }
            FileTree.closeQuietly(current)
            current = next
        }
        return current
    }

    /// Creates (or truncates) the regular file `inTree` and writes `bytes`; a symlink there is refused.
    public func writeFile(_ inTree: String, _ bytes: [UInt8], permissions: UInt32 = 0o644, append: Bool = false)
        throws(Error)
    {
        let (parent, name) = try openParent(inTree)
        defer { FileTree.closeQuietly(parent) }
        guard let name else { throw .wrongKind(tree: path, path: inTree, expected: "file", found: "directory") }
        let flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (append ? O_APPEND : O_TRUNC)
        let file: FileDescriptor
        switch valueOrErrno({ openat(parent.rawValue, name, flags, mode_t(permissions)) }) {
        case .success(let fd): file = FileDescriptor(rawValue: fd)
        case .failure(.tooManySymbolicLinkLevels):
            throw .symlinkRefused(tree: path, path: inTree, target: (try? FileTree.readLink(in: parent, name)) ?? "?")
        case .failure(let errno):
            throw .system(operation: append ? "open for append" : "create", tree: path, path: inTree, errno: errno)
        }
        defer { FileTree.closeQuietly(file) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 8)
        defer { buffer.deallocate() }
        buffer.copyBytes(from: bytes)
        do {
            try FileTree.writeAll(file, UnsafeRawBufferPointer(rebasing: buffer[0..<bytes.count]), path: inTree)
        } catch {
            throw Self.wrap(error, tree: path, path: inTree)
        }
    }

    /// Creates an empty regular file when nothing exists at `inTree`; true when it created one.
    @discardableResult
    public func createEmptyFileIfAbsent(_ inTree: String, permissions: UInt32 = 0o644) throws(Error) -> Bool {
        let (parent, name) = try openParent(inTree)
        defer { FileTree.closeQuietly(parent) }
        guard let name else { return false }
        do {
            let fd = try FileTree.createFile(in: parent, name, permissions: permissions)
            FileTree.closeQuietly(fd)
            return true
        } catch {
            if error.errno == .fileExists { return false }
            throw Self.wrap(error, tree: path, path: inTree)
        }
    }

    /// Replaces whatever is at `inTree` (file, symlink or whole directory, never followed) with a symlink.
    public func replaceWithSymlink(_ inTree: String, target: String) throws(Error) {
        let (parent, name) = try openParent(inTree)
        defer { FileTree.closeQuietly(parent) }
        guard let name else { throw .wrongKind(tree: path, path: inTree, expected: "path below the top", found: "top") }
        do {
            try FileTree.removeTree(in: parent, name)
            try FileTree.makeSymlink(in: parent, name, target: target)
        } catch {
            throw Self.wrap(error, tree: path, path: inTree)
        }
    }

    /// Removes `inTree` (a directory with everything below it, fd-anchored), if present.
    public func remove(_ inTree: String) throws(Error) {
        let (parent, name) = try openParent(inTree)
        defer { FileTree.closeQuietly(parent) }
        guard let name else { throw .wrongKind(tree: path, path: inTree, expected: "path below the top", found: "top") }
        do { try FileTree.removeTree(in: parent, name) } catch { throw Self.wrap(error, tree: path, path: inTree) }
    }

    /// Empties the directory `inTree` (never following a symlink), keeping the directory itself.
    public func emptyDirectory(_ inTree: String) throws(Error) {
        let (parent, name) = try openParent(inTree)
        defer { FileTree.closeQuietly(parent) }
        do {
            if let name {
                try FileTree.emptyDirectory(in: parent, name, keeping: { _ in false })
            } else {
                for entry in try FileTree.list(parent, path: path).names { try FileTree.removeTree(in: parent, entry) }
            }
        } catch {
            throw Self.wrap(error, tree: path, path: inTree)
        }
    }

    /// The whole content of the regular file `inTree` (a symlink is refused), at most `limit` bytes.
    public func readFile(_ inTree: String, limit: Int = 16 << 20) throws(Error) -> [UInt8] {
        let fd = try openFileForReading(inTree)
        defer { FileTree.closeQuietly(fd) }
        var result: [UInt8] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 8)
        defer { buffer.deallocate() }
        var offset: Int64 = 0
        while result.count < limit {
            let count: Int
            do {
                count = try FileTree.read(fd, into: buffer, at: offset, path: inTree)
            } catch {
                throw Self.wrap(error, tree: path, path: inTree)
            }
            if count == 0 { break }
            result.append(contentsOf: buffer[0..<count])
            offset &+= Int64(count)
        }
        return result
    }
}

extension ConfinedTree {
    /// Opens the regular file `inTree` read-write (a loop device's backing file); a symlink is refused.
    public func openFileForWriting(_ inTree: String) throws(Error) -> FileDescriptor {
        let (parent, name) = try openParent(inTree)
        defer { FileTree.closeQuietly(parent) }
        guard let name else { throw .wrongKind(tree: path, path: inTree, expected: "file", found: "directory") }
        return try openChild(parent, name, inTree: inTree, flags: O_RDWR | O_NOCTTY)
    }
}
