import Glibc
import SystemPackage

/// Path-level operations the boot needs: directories, links, existence, listing.
public enum FileSystem {
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case makeDirectory(path: String, Errno)
        case symlink(target: String, path: String, Errno)
        case listDirectory(path: String, Errno)
        case changeMode(path: String, Errno)
        case hardLink(existing: String, path: String, Errno)

        public var description: String {
            switch self {
            case .makeDirectory(let path, let errno): "cannot create directory \(path): \(errno.report)"
            case .symlink(let target, let path, let errno): "cannot link \(path) -> \(target): \(errno.report)"
            case .listDirectory(let path, let errno): "cannot list \(path): \(errno.report)"
            case .changeMode(let path, let errno): "cannot change mode of \(path): \(errno.report)"
            case .hardLink(let existing, let path, let errno): "cannot link \(path) to \(existing): \(errno.report)"
            }
        }
    }

    public static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// The path with every link resolved (realpath(3)), nil when it does not resolve.
    public static func resolvedPath(_ path: String) -> String? {
        var resolved = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard realpath(path, &resolved) != nil else { return nil }
        return String(cString: resolved)
    }

    /// link(2): a second name for `existing` (same file system only), replacing nothing.
    public static func hardLink(existing: String, at path: String) throws(Error) {
        if link(existing, path) == -1 { throw .hardLink(existing: existing, path: path, .captured) }
    }

    /// sync(2): every file system's dirty data to its device.
    public static func syncAll() { sync() }

    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// True when `path` is the root of a mount: its device differs from its parent's, or (for a
    /// bind of the same file system) it is "/".
    public static func isMountPoint(_ path: String) -> Bool {
        var own = stat()
        var parent = stat()
        guard stat(path, &own) == 0, stat(path + "/..", &parent) == 0 else { return false }
        return own.st_dev != parent.st_dev || own.st_ino == parent.st_ino
    }

    /// Creates `path` and missing parents with `mode`; an existing directory is fine.
    /// The mode is applied with chmod too, since mkdir honours the umask.
    public static func makeDirectory(_ path: String, mode: mode_t = 0o755) throws(Error) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            if mkdir(prefix, mode) == -1 {
                let savedErrno = Errno.captured
                if savedErrno != .fileExists || !isDirectory(prefix) {
                    throw .makeDirectory(path: prefix, savedErrno)
                }
            }
            prefix += "/"
        }
        if chmod(path, mode) == -1 { throw .changeMode(path: path, .captured) }
    }

    /// Creates a symbolic link unless something already exists at `path`.
    public static func symlink(target: String, at path: String) throws(Error) {
        if Glibc.symlink(target, path) == -1 {
            let savedErrno = Errno.captured
            if savedErrno != .fileExists { throw .symlink(target: target, path: path, savedErrno) }
        }
    }

    /// The names in a directory, without "." and "..", unsorted.
    public static func entries(of path: String) throws(Error) -> [String] {
        guard let dir = opendir(path) else { throw .listDirectory(path: path, .captured) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
