import SystemPackage
import Glibc

/// Socket-call helpers for TCPStream and TCPListener: an EINTR retry loop and a poll wait with a timeout.
enum SocketCalls {
    /// Runs a call returning -1 on failure, retrying while it fails with EINTR.
    static func retryingInterrupts<I: FixedWidthInteger>(_ call: () -> I) -> Result<I, Errno> {
        while true {
            let result = call()
            if result != -1 { return .success(result) }
            let saved = Errno(rawValue: errno)
            if saved == .interrupted { continue }
            return .failure(saved)
        }
    }

    enum Readiness { case ready, timedOut }

    /// Waits until `fd` has one of `events` (POLLIN/POLLOUT) or the timeout passes (-1 = forever).
    /// Error and hang-up conditions count as ready so the next call reports them.
    static func wait(fd: FileDescriptor, events: Int16, timeoutMilliseconds: Int32) -> Result<Readiness, Errno> {
        var entry = pollfd(fd: fd.rawValue, events: events, revents: 0)
        let deadline = timeoutMilliseconds < 0 ? nil : ContinuousClock.now.advanced(by: .milliseconds(timeoutMilliseconds))
        while true {
            let remaining = deadline.map { Waiting.milliseconds(until: $0) } ?? -1
            let count = poll(&entry, 1, remaining)
            if count > 0 { return .success(.ready) }
            if count == 0 { return .success(.timedOut) }
            let saved = Errno(rawValue: errno)
            if saved != .interrupted { return .failure(saved) }
        }
    }

    static func setOption(_ fd: FileDescriptor, level: Int32, name: Int32, value: Int32) -> Result<Void, Errno> {
        var value = value
        return retryingInterrupts {
            setsockopt(fd.rawValue, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
        }.map { _ in () }
    }

    static func localAddress(of fd: FileDescriptor) -> Result<SocketAddress, Errno> {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd.rawValue, $0, &length) }
        }
        if result == -1 { return .failure(Errno(rawValue: errno)) }
        guard let address = SocketAddress.from(storage: storage) else { return .failure(.addressFamilyNotSupported) }
        return .success(address)
    }
}
