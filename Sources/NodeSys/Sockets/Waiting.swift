import Glibc

/// Time helpers for the blocking, single-threaded code PID 1 runs (no Foundation, no async runtime needed).
public enum Waiting {
    /// Milliseconds from now until `deadline`, rounded up, clamped to 0...Int32.max.
    public static func milliseconds(until deadline: ContinuousClock.Instant) -> Int32 {
        milliseconds(of: ContinuousClock.now.duration(to: deadline))
    }

    /// A duration in milliseconds, rounded up, clamped to 0...Int32.max.
    public static func milliseconds(of duration: Duration) -> Int32 {
        let (seconds, attoseconds) = duration.components
        if seconds < 0 || (seconds == 0 && attoseconds <= 0) { return 0 }
        if seconds >= Int64(Int32.max / 1000) { return Int32.max }
        let fraction = (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(seconds * 1000 + fraction)
    }

    /// Waits until `fd` is readable (true) or the deadline passes (false). Retries after EINTR.
    static func readable(fd: Int32, deadline: ContinuousClock.Instant) -> Result<Bool, SocketSystemError> {
        writableOrReadable(fd: fd, events: Int16(POLLIN), deadline: deadline, operation: "poll for input")
    }

    static func writable(fd: Int32, deadline: ContinuousClock.Instant) -> Result<Bool, SocketSystemError> {
        writableOrReadable(fd: fd, events: Int16(POLLOUT), deadline: deadline, operation: "poll for output")
    }

    private static func writableOrReadable(
        fd: Int32, events: Int16, deadline: ContinuousClock.Instant, operation: String
    ) -> Result<Bool, SocketSystemError> {
        while true {
            var descriptor = pollfd(fd: fd, events: events, revents: 0)
            let result = poll(&descriptor, 1, milliseconds(until: deadline))
            if result > 0 { return .success(true) }
            if result == 0 { return .success(false) }
            let saved = errno
            if saved == EINTR { continue }
            return .failure(SocketSystemError(operation: operation, code: saved))
        }
    }
}
