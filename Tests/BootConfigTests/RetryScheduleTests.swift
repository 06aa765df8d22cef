import Testing

@testable import BootConfig

@Suite struct RetryScheduleTests {
    /// RFC 2131 4.1: 4, 8, 16, 32, 64, 64... seconds, each within a second either way.
    @Test func dhcpFollowsRFC2131() {
        for seed in UInt64(0)..<200 {
            let delays = Array(RetrySchedule.rfc2131.delays(seed: seed).prefix(7))
            for (delay, base) in zip(delays, [4_000, 8_000, 16_000, 32_000, 64_000, 64_000, 64_000] as [Int64]) {
                #expect((base - 1_000)...(base + 1_000) ~= delay, "seed \(seed): \(delay) ms for \(base) ms")
            }
        }
    }

    @Test func nfsRootMountPausesDoubleToEightSeconds() {
        for seed in UInt64(0)..<200 {
            let delays = Array(RetrySchedule.nfsRootMount.delays(seed: seed).prefix(6))
            let bounds: [ClosedRange<Int64>] =
                [750...1_250, 1_500...2_500, 3_500...4_500]
                + Array(
                    repeating: 7_500...8_500, count: 3)
            for (delay, range) in zip(delays, bounds) { #expect(range ~= delay, "seed \(seed): \(delay) ms") }
        }
    }

    /// The same seed replays the same delays; a rack of differently seeded nodes spreads out instead of retrying
    /// in lock step.
    @Test func seedsReplayAndSpread() {
        let schedule = RetrySchedule.rfc2131
        #expect(Array(schedule.delays(seed: 42).prefix(8)) == Array(schedule.delays(seed: 42).prefix(8)))
        let firstDelays = (UInt64(0)..<100).map { schedule.delays(seed: $0 &* 0x9E37_79B9).first { _ in true } ?? 0 }
        #expect(Set(firstDelays).count > 90, "100 nodes, \(Set(firstDelays).count) distinct first delays")
        let spread = (firstDelays.max() ?? 0) - (firstDelays.min() ?? 0)
        #expect(spread > 1_500, "first delays spread over \(spread) ms of the 2,000 allowed")
    }

    /// Short intervals (tests) keep the jitter within a quarter of the delay, so delays stay positive.
    @Test func shortIntervalsStayPositive() {
        let schedule = RetrySchedule(initialMilliseconds: 20, maximumMilliseconds: 80, jitterMilliseconds: 1_000)
        for seed in UInt64(0)..<100 {
            let delays = Array(schedule.delays(seed: seed).prefix(4))
            #expect(15...25 ~= delays[0] && 30...50 ~= delays[1] && 60...100 ~= delays[2] && 60...100 ~= delays[3])
        }
        let none = RetrySchedule(initialMilliseconds: 0, maximumMilliseconds: 0, jitterMilliseconds: 500)
        #expect(Array(none.delays(seed: 1).prefix(3)) == [0, 0, 0])
    }
}
