import Glibc
import SystemPackage

/// Runs a libc call that returns -1 and sets errno on failure, retrying on EINTR
/// (the swift-system `valueOrErrno` pattern). The errno is read right after the call.
@inline(__always)
package func valueOrErrno<I: FixedWidthInteger>(
    retryOnInterrupt: Bool = true, _ call: () -> I
) -> Result<I, Errno> {
    while true {
        let result = call()
        if result != -1 { return .success(result) }
        let savedErrno = Errno(rawValue: errno)
        if retryOnInterrupt && savedErrno == .interrupted { continue }
        return .failure(savedErrno)
    }
}

/// Like `valueOrErrno`, for calls whose only success value is 0.
@inline(__always)
package func nothingOrErrno<I: FixedWidthInteger>(
    retryOnInterrupt: Bool = true, _ call: () -> I
) -> Result<Void, Errno> {
    valueOrErrno(retryOnInterrupt: retryOnInterrupt, call).map { _ in () }
}

extension Errno {
    /// The errno captured right now, for calls that do not go through `valueOrErrno`.
    package static var captured: Errno { Errno(rawValue: errno) }

    /// "No such file or directory (errno 2)": the strerror text plus the number, for reports.
    public var report: String { "\(description) (errno \(rawValue))" }
}

extension Errno {
    /// The Errno inside an error thrown by swift-system's untyped-throwing calls.
    package init(thrown error: any Error) {
        self = (error as? Errno) ?? .ioError
    }
}
