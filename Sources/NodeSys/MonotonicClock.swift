import Glibc

/// An instant on CLOCK_BOOTTIME: nanoseconds since the kernel started, the same origin as the
/// kernel's printk timestamps, so "time since kernel start" needs no other reference.
public struct MonotonicInstant: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var nanoseconds: UInt64

    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    public static func now() -> MonotonicInstant {
        var spec = timespec()
        // CLOCK_BOOTTIME cannot fail with a valid clock id and a valid pointer.
        _ = clock_gettime(CLOCK_BOOTTIME, &spec)
        let seconds = UInt64(max(0, spec.tv_sec))
        let nanos = UInt64(max(0, spec.tv_nsec))
        return MonotonicInstant(nanoseconds: seconds &* 1_000_000_000 &+ nanos)
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    /// Milliseconds elapsed from `earlier` to self (0 when `earlier` is later).
    public func milliseconds(since earlier: MonotonicInstant) -> UInt64 {
        nanoseconds >= earlier.nanoseconds ? (nanoseconds - earlier.nanoseconds) / 1_000_000 : 0
    }

    public var milliseconds: UInt64 { nanoseconds / 1_000_000 }

    /// "  12.345678", the kernel's printk layout (seconds padded to 5, microseconds to 6).
    public var description: String {
        let micros = nanoseconds / 1_000
        let seconds = String(micros / 1_000_000)
        let fraction = String(micros % 1_000_000)
        let paddedSeconds = String(repeating: " ", count: max(0, 5 - seconds.count)) + seconds
        let paddedFraction = String(repeating: "0", count: max(0, 6 - fraction.count)) + fraction
        return "\(paddedSeconds).\(paddedFraction)"
    }
}

/// The one sleep of the boot, the agent and the network code: the calling thread only, no async runtime,
/// resuming after signals until the full time has passed.
public enum Pause {
    /// Generic over the integer type because the callers hold milliseconds as UInt64 (MonotonicInstant),
    /// Int (retry settings) and Int32 (poll timeouts from `Waiting.milliseconds`). Zero or less returns at once.
    public static func sleep(milliseconds: some BinaryInteger) {
        let total = Int(clamping: milliseconds)
        guard total > 0 else { return }
        var request = timespec(tv_sec: total / 1000, tv_nsec: (total % 1000) * 1_000_000)
        var remaining = timespec()
        _ = valueOrErrno {
            let result = nanosleep(&request, &remaining)
            // After EINTR the retry sleeps only what was left.
            request = remaining
            return result
        }
    }
}
