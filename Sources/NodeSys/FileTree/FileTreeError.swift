import SystemPackage

/// Namespace for the fd-anchored file-tree calls used by overlay capture and layer apply.
/// Every call takes a directory descriptor plus one path component and never follows a final symlink,
/// so callers can walk a tree without ever leaving it through a symlinked directory.
public enum FileTree {
    /// A failed system call, with the operation and the path (relative to its anchor) it was applied to.
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case system(operation: String, path: String, errno: Errno)
        case invalidName(String)

        public var description: String {
            switch self {
            case .system(let operation, let path, let errno):
                return "\(operation) '\(path)': \(errno)"
            case .invalidName(let name):
                return "invalid path component '\(name)' (empty, '.', '..' or contains '/' or NUL)"
            }
        }

        /// The errno of a failed system call, if this is one.
        public var errno: Errno? {
            if case .system(_, _, let errno) = self { return errno }
            return nil
        }
    }

    /// Refuses names that are not exactly one component: an fd-anchored call with `a/b` or `..` would step
    /// outside the directory it is anchored to.
    static func checkComponent(_ name: PathBytes) throws(Error) {
        if name.isEmpty || name == "." || name == ".." || name.contains(UInt8(ascii: "/")) || name.contains(0) {
            throw .invalidName(name.description)
        }
    }
}
