import Glibc
import SystemPackage

extension FileTree {
    /// `valueOrErrno` (EINTR retried there) with the failure as `Error.system` naming `operation` and `path`.
    /// `path` is built only when the call fails: a capture walk makes several calls per file, and building each
    /// one's escaped display path up front cost more than the system calls themselves.
    static func retrying<I: FixedWidthInteger>(
        _ operation: @autoclosure () -> String, _ path: @autoclosure () -> String, _ body: () -> I
    ) throws(Error) -> I {
        switch valueOrErrno(body) {
        case .success(let value): return value
        case .failure(let errno): throw .system(operation: operation(), path: path(), errno: errno)
        }
    }

    /// The same for a name given as bytes: the message shows its escaped display form.
    static func retrying<I: FixedWidthInteger>(
        _ operation: @autoclosure () -> String, _ name: PathBytes, _ body: () -> I
    ) throws(Error) -> I {
        try retrying(operation(), name.description, body)
    }

    /// Opens the directory at `path` (the anchor of a walk; symlinks in this user-given path are followed).
    public static func openAnchor(_ path: FilePath) throws(Error) -> FileDescriptor {
        let fd = try retrying("open", path.string) {
            open(path.string, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        }
        return FileDescriptor(rawValue: fd)
    }

    /// Opens the subdirectory `name` of `directory`, refusing a symlink (ELOOP) or a non-directory (ENOTDIR).
    public static func openDirectory(in directory: FileDescriptor, _ name: some FileTreeName) throws(Error)
        -> FileDescriptor
    {
        let name = name.pathBytes
        try checkComponent(name)
        let fd = try retrying("open directory", name) {
            name.withCString { openat(directory.rawValue, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        }
        return FileDescriptor(rawValue: fd)
    }

    /// Opens the file `name` of `directory` for reading without following a symlink.
    /// O_NONBLOCK keeps a FIFO or device that raced into place from blocking the walk.
    public static func openForReading(in directory: FileDescriptor, _ name: some FileTreeName) throws(Error)
        -> FileDescriptor
    {
        let name = name.pathBytes
        try checkComponent(name)
        let fd = try retrying("open", name) {
            name.withCString {
                openat(directory.rawValue, $0, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
            }
        }
        return FileDescriptor(rawValue: fd)
    }

    /// Creates the regular file `name` in `directory`; fails if anything already exists there.
    public static func createFile(
        in directory: FileDescriptor, _ name: some FileTreeName, permissions: UInt32
    ) throws(Error) -> FileDescriptor {
        let name = name.pathBytes
        try checkComponent(name)
        let fd = try retrying("create", name) {
            name.withCString {
                openat(
                    directory.rawValue, $0, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode_t(permissions))
            }
        }
        return FileDescriptor(rawValue: fd)
    }

    /// `lstat` of `name` in `directory`.
    public static func status(in directory: FileDescriptor, _ name: some FileTreeName) throws(Error) -> FileStatus {
        let name = name.pathBytes
        try checkComponent(name)
        var st = stat()
        _ = try retrying("stat", name) {
            name.withCString { fstatat(directory.rawValue, $0, &st, AT_SYMLINK_NOFOLLOW) }
        }
        return FileStatus(st)
    }

    /// `lstat` of `name`, or nil when nothing exists there.
    public static func statusIfPresent(in directory: FileDescriptor, _ name: some FileTreeName) throws(Error)
        -> FileStatus?
    {
        do {
            return try status(in: directory, name)
        } catch {
            if error.errno == .noSuchFileOrDirectory { return nil }
            throw error
        }
    }

    /// `fstat` of an open descriptor.
    public static func status(of fd: FileDescriptor, path: @autoclosure () -> String) throws(Error) -> FileStatus {
        var st = stat()
        _ = try retrying("stat", path()) { fstat(fd.rawValue, &st) }
        return FileStatus(st)
    }

    /// Target of the symlink `name` in `directory`, as raw text.
    public static func readLink(in directory: FileDescriptor, _ name: some FileTreeName) throws(Error) -> String {
        String(decoding: try readLinkBytes(in: directory, name).bytes, as: UTF8.self)
    }

    /// Target of the symlink `name` in `directory`, byte for byte.
    public static func readLinkBytes(in directory: FileDescriptor, _ name: some FileTreeName) throws(Error) -> PathBytes
    {
        let name = name.pathBytes
        try checkComponent(name)
        var capacity = 256
        while true {
            var buffer = [CChar](repeating: 0, count: capacity)
            let count = try retrying("readlink", name) {
                Int32(name.withCString { readlinkat(directory.rawValue, $0, &buffer, capacity) })
            }
            if Int(count) < capacity {
                let bytes = buffer[0..<Int(count)].map { UInt8(bitPattern: $0) }
                return PathBytes(bytes)
            }
            capacity *= 4
            if capacity > 1 << 20 {
                throw .system(operation: "readlink", path: name.description, errno: .fileNameTooLong)
            }
        }
    }
}

extension FileTree {
    /// Opens the directory holding `path` (nil when it does not exist), to read `path.lastComponent` fd-anchored.
    public static func openAnchorParent(_ path: FilePath) -> FileDescriptor? {
        var parent = path
        parent.removeLastComponent()
        return try? openAnchor(parent.isEmpty ? "." : parent)
    }
}
