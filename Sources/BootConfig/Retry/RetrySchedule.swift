/// The delays between retries of one thing (DHCP transmissions, NFS root mount rounds): doubling from `initial` up
/// to `maximum`, each moved by a uniform random amount of at most `jitter` either way (and never more than a quarter
/// of the delay, so short test intervals stay positive and ordered). The first try is not delayed: the schedule only
/// says how long to wait after a failed one.
///
/// The random amounts come from a seed, not from the system generator: a rack of nodes powered on together, each
/// seeded differently (the init seeds from `getrandom(GRND_NONBLOCK)` or, before the kernel's generator is ready,
/// from the MAC address and the clock), does not retry in lock step, while PID 1 never waits for entropy; and a test
/// replays a schedule from its seed.
public struct RetrySchedule: Sendable, Equatable {
    public var initialMilliseconds: Int64
    public var maximumMilliseconds: Int64
    public var jitterMilliseconds: Int64

    public init(initialMilliseconds: Int64, maximumMilliseconds: Int64, jitterMilliseconds: Int64) {
        self.initialMilliseconds = max(0, initialMilliseconds)
        self.maximumMilliseconds = max(self.initialMilliseconds, maximumMilliseconds)
        self.jitterMilliseconds = max(0, jitterMilliseconds)
    }

    /// RFC 2131 section 4.1: 4 s, 8 s, ... up to 64 s, each randomised by up to 1 s either way.
    public static let rfc2131 = RetrySchedule(
        initialMilliseconds: 4_000, maximumMilliseconds: 64_000, jitterMilliseconds: 1_000)

    /// The NFS root mount's pauses between rounds: 1 s doubling to 8 s, each moved by up to half a second.
    public static let nfsRootMount = RetrySchedule(
        initialMilliseconds: 1_000, maximumMilliseconds: 8_000, jitterMilliseconds: 500)

    /// The delays in order, drawn from `seed`.
    public func delays(seed: UInt64) -> Delays { Delays(schedule: self, random: SeededRandom(seed: seed)) }

    /// An endless sequence of delays in milliseconds; callers stop at their own deadline.
    public struct Delays: Sendable, IteratorProtocol, Sequence {
        let schedule: RetrySchedule
        var random: SeededRandom
        var base: Int64

        init(schedule: RetrySchedule, random: SeededRandom) {
            self.schedule = schedule
            self.random = random
            base = schedule.initialMilliseconds
        }

        public mutating func next() -> Int64? {
            let spread = Swift.min(schedule.jitterMilliseconds, base / 4)
            let offset = spread > 0 ? Int64(random.next() % UInt64(2 * spread + 1)) - spread : 0
            let delay = base + offset
            base = Swift.min(base * 2, schedule.maximumMilliseconds)
            return delay
        }

        /// The random source, for whatever else must be random alongside (a DHCP transaction id).
        public mutating func nextRandom() -> UInt64 { random.next() }
    }
}

/// SplitMix64: a small, fast, seedable generator (not for secrets: for spreading retries and ids apart).
public struct SeededRandom: Sendable, Equatable, RandomNumberGenerator {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
