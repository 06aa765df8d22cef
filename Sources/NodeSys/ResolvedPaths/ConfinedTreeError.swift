import SystemPackage

extension ConfinedTree {
    /// Why a confined lookup or action failed; every case names the tree and the path inside it.
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        /// A system call failed.
        case system(operation: String, tree: String, path: String, errno: Errno)
        /// A path component is a symlink where none is allowed (the final component of a target or a source).
        case symlinkRefused(tree: String, path: String, target: String)
        /// The path is not absolute-in-tree clean: contains `..` or NUL.
        case invalidPath(tree: String, path: String)
        /// Something exists but has the wrong kind (a file where a directory is needed, a device...).
        case wrongKind(tree: String, path: String, expected: String, found: String)

        public var description: String {
            switch self {
            case .system(let operation, let tree, let path, let errno):
                return "\(operation) '\(path)' in \(tree): \(errno)"
            case .symlinkRefused(let tree, let path, let target):
                return
                    "refused '\(path)' in \(tree): it is a symlink (to '\(target)'); symlinks are never followed here"
            case .invalidPath(let tree, let path):
                return "invalid path '\(path)' in \(tree): '..' and NUL are not allowed"
            case .wrongKind(let tree, let path, let expected, let found):
                return "'\(path)' in \(tree) is a \(found), expected a \(expected)"
            }
        }

        public var errno: Errno? {
            if case .system(_, _, _, let errno) = self { return errno }
            return nil
        }
    }
}
