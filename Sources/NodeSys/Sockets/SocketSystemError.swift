import SystemPackage

/// A failed socket system call: which call, on what, and the kernel's errno (with its text).
public struct SocketSystemError: Swift.Error, Hashable, Sendable, CustomStringConvertible {
    public var operation: String
    public var errno: Errno

    public init(operation: String, errno: Errno) {
        self.operation = operation
        self.errno = errno
    }

    public var description: String { "\(operation): \(errno.description.lowercased()) (errno \(errno.rawValue))" }

    /// Captures errno right after a failed call, before anything else can overwrite it.
    static func last(_ operation: String) -> SocketSystemError {
        SocketSystemError(operation: operation, errno: .captured)
    }
}
