import CNodeShim
import Glibc
import SystemPackage

/// A directory that every path is resolved inside: `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)`, so an
/// absolute symlink or `..` in the tree lands inside the tree again and never outside it, and the final component
/// of a path is never followed when it is a symlink (callers see it as a symlink and decide). Used for the new
/// root and for every statelite source tree: a hostile image cannot make the init read or write elsewhere.
public final class ConfinedTree: @unchecked Sendable {
    /// The tree's path as opened (for messages only; never used to resolve anything after `init`).
    public let path: String
    /// `O_RDONLY | O_DIRECTORY` descriptor of the tree's top.
    public let descriptor: FileDescriptor

    /// Opens `path` (a trusted path of the initramfs, e.g. `/sysroot`) as a confinement root.
    public init(_ path: String) throws(Error) {
        self.path = path
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw .system(operation: "open tree", tree: path, path: "/", errno: Errno(rawValue: Glibc.errno)) }
        descriptor = FileDescriptor(rawValue: fd)
    }

    /// Takes ownership of an open directory descriptor (e.g. from `openDirectory` of another tree: a source tree
    /// inside the new root is then confined to itself).
    public init(descriptor: FileDescriptor, path: String) {
        self.path = path
        self.descriptor = descriptor
    }

    /// The directory `inTree` (resolved confined, not a symlink) as a tree of its own.
    public func subtree(_ inTree: String) throws(Error) -> ConfinedTree {
        let fd = try openDirectory(inTree)
        let clean = (try? components(inTree))?.joined(separator: "/") ?? inTree
        return ConfinedTree(descriptor: fd, path: (path == "/" ? "" : path) + "/" + clean)
    }

    deinit { _ = Glibc.close(descriptor.rawValue) }

    static let resolveFlags = nodeinit_resolve_in_root() | nodeinit_resolve_no_magiclinks()

    /// The components of an in-tree path (`/etc/ssh/`, `etc/motd`): empty and `.` components dropped; `..` and NUL
    /// refused (litefile paths never need them, and lexical `..` would make logs misleading).
    public func components(_ inTree: String) throws(Error) -> [String] {
        if inTree.utf8.contains(0) { throw .invalidPath(tree: path, path: inTree) }
        var parts: [String] = []
        for part in inTree.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." { throw .invalidPath(tree: path, path: inTree) }
            parts.append(String(part))
        }
        return parts
    }

    /// openat2 of `relative` (no leading `/`; "." for the top) confined to this tree. Retries EINTR and EAGAIN
    /// (the kernel returns EAGAIN for RESOLVE_IN_ROOT when a rename raced the lookup).
    func open2(_ relative: String, flags: Int32, mode: UInt32 = 0, operation: String) throws(Error) -> FileDescriptor {
        var tries = 0
        while true {
            switch valueOrErrno({
                nodeinit_openat2(descriptor.rawValue, relative, flags | O_CLOEXEC, mode, Self.resolveFlags)
            }) {
            case .success(let fd): return FileDescriptor(rawValue: fd)
            case .failure(.resourceTemporarilyUnavailable) where tries < 63: tries += 1
            case .failure(let errno):
                throw .system(operation: operation, tree: path, path: "/" + relative, errno: errno)
            }
        }
    }

    /// Opens the directory holding the last component of `inTree`, and returns it with that name. The parent
    /// chain is resolved inside the tree (symlinks in it stay inside); nil name for the tree's top.
    public func openParent(_ inTree: String) throws(Error) -> (directory: FileDescriptor, name: String?) {
        let parts = try components(inTree)
        guard let name = parts.last else {
            return (try open2(".", flags: O_RDONLY | O_DIRECTORY, operation: "open directory"), nil)
        }
        let parent = parts.dropLast().joined(separator: "/")
        let fd = try open2(parent.isEmpty ? "." : parent, flags: O_RDONLY | O_DIRECTORY, operation: "open directory")
        return (fd, name)
    }

    /// `lstat` of `inTree` (the final component not followed), nil when it or a parent does not exist.
    public func status(_ inTree: String) throws(Error) -> FileStatus? {
        let (directory, name): (FileDescriptor, String?)
        do {
            (directory, name) = try openParent(inTree)
        } catch {
            if error.errno == .noSuchFileOrDirectory || error.errno == .notDirectory { return nil }
            throw error
        }
        defer { FileTree.closeQuietly(directory) }
        do {
            if let name { return try FileTree.statusIfPresent(in: directory, name) }
            return try FileTree.status(of: directory, path: path)
        } catch {
            throw Self.wrap(error, tree: path, path: inTree)
        }
    }

    /// Opens the directory `inTree` for listing and fd-anchored work; a symlink as the final component is refused.
    public func openDirectory(_ inTree: String) throws(Error) -> FileDescriptor {
        let (parent, name) = try openParent(inTree)
        guard let name else { return parent }
        defer { FileTree.closeQuietly(parent) }
        return try openChild(parent, name, inTree: inTree, flags: O_RDONLY | O_DIRECTORY)
    }

    /// Opens `inTree` with `O_PATH` (for binds and mount targets) without following a final symlink.
    public func openLocation(_ inTree: String) throws(Error) -> FileDescriptor {
        let (parent, name) = try openParent(inTree)
        guard let name else {
            defer { FileTree.closeQuietly(parent) }
            return try open2(".", flags: nodeinit_o_path() | O_DIRECTORY, operation: "open")
        }
        defer { FileTree.closeQuietly(parent) }
        return try openChild(parent, name, inTree: inTree, flags: nodeinit_o_path())
    }

    /// Opens the regular file `inTree` for reading; a symlink is refused.
    public func openFileForReading(_ inTree: String) throws(Error) -> FileDescriptor {
        let (parent, name) = try openParent(inTree)
        defer { FileTree.closeQuietly(parent) }
        guard let name else { throw .wrongKind(tree: path, path: inTree, expected: "file", found: "directory") }
        return try openChild(parent, name, inTree: inTree, flags: O_RDONLY | O_NOCTTY | O_NONBLOCK)
    }

    /// openat(parent, name, flags | O_NOFOLLOW); an ELOOP (the name is a symlink) becomes `symlinkRefused`.
    func openChild(_ parent: FileDescriptor, _ name: String, inTree: String, flags: Int32) throws(Error)
        -> FileDescriptor
    {
        switch valueOrErrno({ openat(parent.rawValue, name, flags | O_NOFOLLOW | O_CLOEXEC) }) {
        case .success(let fd):
            if flags & nodeinit_o_path() != 0 {
                // O_PATH|O_NOFOLLOW opens the symlink itself instead of failing: check.
                var st = stat()
                if fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK {
                    _ = Glibc.close(fd)
                    let target = (try? FileTree.readLink(in: parent, name)) ?? "?"
                    throw .symlinkRefused(tree: path, path: inTree, target: target)
                }
            }
            return FileDescriptor(rawValue: fd)
        case .failure(let errno):
            if errno == .tooManySymbolicLinkLevels || (errno == .notDirectory && flags & O_DIRECTORY != 0),
                let status = try? FileTree.status(in: parent, name), status.kind == .symlink
            {
                let target = (try? FileTree.readLink(in: parent, name)) ?? "?"
                throw .symlinkRefused(tree: path, path: inTree, target: target)
            }
            throw .system(operation: "open", tree: path, path: inTree, errno: errno)
        }
    }

    static func wrap(_ error: FileTree.Error, tree: String, path: String) -> Error {
        switch error {
        case .system(let operation, _, let errno):
            return .system(operation: operation, tree: tree, path: path, errno: errno)
        case .invalidName: return .invalidPath(tree: tree, path: path)
        }
    }
}
