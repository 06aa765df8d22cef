import Glibc
import SystemPackage

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

    /// The deadline `milliseconds` from now; nil (no limit) when negative.
    static func deadline(afterMilliseconds milliseconds: Int32) -> ContinuousClock.Instant? {
        milliseconds < 0 ? nil : ContinuousClock.now.advanced(by: .milliseconds(milliseconds))
    }

    enum Readiness { case ready, timedOut }

    /// Waits until `fd` has one of `events` (POLLIN/POLLOUT) or `deadline` passes (nil: no limit). Error and
    /// hang-up conditions count as ready so the next call reports them. After EINTR the wait goes on with the
    /// time left, since the timeout is recomputed from the deadline on every try.
    static func wait(for events: Int16, on fd: FileDescriptor, deadline: ContinuousClock.Instant?) -> Result<
        Readiness, Errno
    > {
        var entry = pollfd(fd: fd.rawValue, events: events, revents: 0)
        return valueOrErrno { poll(&entry, 1, deadline.map { milliseconds(until: $0) } ?? -1) }
            .map { $0 > 0 ? .ready : .timedOut }
    }

    /// Waits until `fd` is readable (true) or the deadline passes (false); a failed poll names itself.
    static func readable(fd: FileDescriptor, deadline: ContinuousClock.Instant) -> Result<Bool, SocketSystemError> {
        wait(for: Int16(POLLIN), on: fd, deadline: deadline).map { $0 == .ready }
            .mapError { SocketSystemError(operation: "poll for input", errno: $0) }
    }
}
