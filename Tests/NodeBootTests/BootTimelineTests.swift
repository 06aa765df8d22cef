import NodeSys
import Testing

@testable import NodeBoot

@Suite struct BootTimelineTests {
    @Test func jsonHasPhasesInOrder() {
        var timeline = BootTimeline(initStartMilliseconds: 812)
        timeline.record(
            .earlyRootfs, start: MonotonicInstant(nanoseconds: 812_000_000),
            end: MonotonicInstant(nanoseconds: 815_500_000), succeeded: true)
        timeline.record(
            .nfsRoot, start: MonotonicInstant(nanoseconds: 900_000_000),
            end: MonotonicInstant(nanoseconds: 1_950_000_000), succeeded: true)
        timeline.outcome = .switchRoot
        timeline.initExecMilliseconds = 2010
        #expect(
            timeline.json
                == "{\"init_start_ms\":812,\"outcome\":\"switch_root\",\"init_exec_ms\":2010,\"phases\":["
                + "{\"name\":\"early-rootfs\",\"start_ms\":812,\"duration_ms\":3,\"ok\":true},"
                + "{\"name\":\"nfs-root\",\"start_ms\":900,\"duration_ms\":1050,\"ok\":true}]}\n")
        #expect(timeline.summary == "early-rootfs 3 ms, nfs-root 1050 ms")
    }

    @Test func failureTextIsEscaped() {
        var timeline = BootTimeline(initStartMilliseconds: 5)
        timeline.outcome = .failed
        timeline.failure = "mount \"10.0.2.2:/x\" failed:\n\tno\u{1}"
        #expect(
            timeline.json
                == "{\"init_start_ms\":5,\"outcome\":\"failed\",\"failure\":\"mount \\\"10.0.2.2:/x\\\" failed:\\n\\tno\\u0001\",\"phases\":[]}\n"
        )
    }
}

@Suite struct FailureReportTests {
    let failure = BootFailure(
        phase: .nfsRoot, action: "mounting the NFS root",
        inputs: [.init("server", "10.0.2.2"), .init("path", "/wrong")],
        attempts: (1...10).map { "try \($0)" }, error: "mount(2) system call failed: No such file or directory")

    @Test func reportShowsWhatWithWhichInputsWhatWasTriedAndHowLong() {
        let report = FailureReport(
            failure: failure, phaseMilliseconds: 12_345, bootMilliseconds: 14_000, next: "reboot in 10 s")
        #expect(
            report.lines == [
                "==== BOOT FAILED: mounting the NFS root ====",
                "phase:   nfs-root",
                "inputs:  server=10.0.2.2 path=/wrong",
                "error:   mount(2) system call failed: No such file or directory",
                "tried:   10 attempts in 12.3 s",
                "  try 1", "  try 2", "  try 3",
                "  ... 2 more ...",
                "  try 6", "  try 7", "  try 8", "  try 9", "  try 10",
                "time:    12.3 s in this phase, 14.0 s since kernel start",
                "next:    reboot in 10 s",
                "==== END OF REPORT ====",
            ])
    }

    @Test func shortReportsListEveryAttemptAndSkipEmptySections() {
        let single = BootFailure(phase: .overlay, action: "mounting the overlay root", error: "bad")
        let lines = FailureReport(failure: single, phaseMilliseconds: 5, bootMilliseconds: 2_050, next: "x").lines
        #expect(!lines.contains { $0.hasPrefix("inputs:") || $0.hasPrefix("tried:") })
        #expect(lines.contains("time:    0.0 s in this phase, 2.0 s since kernel start"))
    }
}
