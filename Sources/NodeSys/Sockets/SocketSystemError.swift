import Glibc
import SystemPackage

/// A failed socket system call: which call, on what, and the kernel's errno (with its text).
public struct SocketSystemError: Swift.Error, Hashable, Sendable, CustomStringConvertible {
    public var operation: String
    public var code: Int32

    public init(operation: String, code: Int32) {
        self.operation = operation
        self.code = code
    }

    public var errno: Errno { Errno(rawValue: code) }

    public var description: String { "\(operation): \(Errno(rawValue: code).description.lowercased()) (errno \(code))" }

    /// Captures errno right after a failed call, before anything else can overwrite it.
    static func last(_ operation: String) -> SocketSystemError {
        SocketSystemError(operation: operation, code: currentErrno())
    }
}

private func currentErrno() -> Int32 { errno }
