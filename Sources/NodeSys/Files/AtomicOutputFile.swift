import CNodeShim
import Glibc
import SystemPackage

/// A file written under a temporary name in its target directory and renamed into place by
/// `commit`, so readers see either no file or the complete one. `discard` removes the temporary
/// file; a download that fails therefore leaves nothing behind.
public struct AtomicOutputFile: Sendable {
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case create(path: String, Errno)
        case sync(path: String, Errno)
        case rename(from: String, to: String, Errno)

        public var description: String {
            switch self {
            case .create(let path, let e): "cannot create \(path): \(e) (errno \(e.rawValue))"
            case .sync(let path, let e): "cannot flush \(path) to disk: \(e) (errno \(e.rawValue))"
            case .rename(let from, let to, let e): "cannot rename \(from) to \(to): \(e) (errno \(e.rawValue))"
            }
        }
    }

    public let fd: FileDescriptor
    public let temporaryPath: String
    public let finalPath: String

    /// Creates `<dir>/.<name>.partial-XXXXXX` (mode 0644 after umask) next to `path`.
    public static func create(at path: String) throws(Error) -> AtomicOutputFile {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        var template = Array("\(directory).\(name).partial-XXXXXX".utf8CString)
        let raw = template.withUnsafeMutableBufferPointer { buffer in
            nodeinit_mkstemp_cloexec(buffer.baseAddress)
        }
        let temporary = String(
            decoding: template.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if raw == -1 { throw .create(path: temporary, Errno(rawValue: errno)) }
        // mkostemp creates 0600; a layer or image file is not secret, use the usual 0644 (umask applies).
        let mask = umask(0o022)
        umask(mask)
        _ = fchmod(raw, 0o644 & ~mask)
        return AtomicOutputFile(fd: FileDescriptor(rawValue: raw), temporaryPath: temporary, finalPath: path)
    }

    /// Flushes, closes and renames the file into place.
    public func commit() throws(Error) {
        if fsync(fd.rawValue) == -1 {
            let e = Errno(rawValue: errno)
            discard()
            throw .sync(path: temporaryPath, e)
        }
        try? fd.close()
        if rename(temporaryPath, finalPath) == -1 {
            let e = Errno(rawValue: errno)
            _ = unlink(temporaryPath)
            throw .rename(from: temporaryPath, to: finalPath, e)
        }
    }

    /// Closes and removes the temporary file.
    public func discard() {
        try? fd.close()
        _ = unlink(temporaryPath)
    }
}

/// Path operations the server-side `save` needs besides the copy.
public enum PathOperations {
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case rename(from: String, to: String, Errno)
        public var description: String {
            switch self {
            case .rename(let from, let to, let e): "cannot rename \(from) to \(to): \(e) (errno \(e.rawValue))"
            }
        }
    }

    /// rename(2); fails when `to` is a non-empty directory, which keeps an existing image safe.
    public static func rename(_ from: String, to: String) throws(Error) {
        if Glibc.rename(from, to) == -1 { throw .rename(from: from, to: to, Errno(rawValue: errno)) }
    }

    /// unlink(2); a missing file is not an error.
    public static func removeFile(_ path: String) {
        _ = unlink(path)
    }

    /// True when `path` is a directory (following symlinks, as `cp` does for its source).
    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// lstat-level existence (a dangling symlink exists).
    public static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// The process id, for unique temporary names.
    public static var processID: Int32 { getpid() }
}
