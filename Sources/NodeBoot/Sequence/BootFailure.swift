/// A fatal boot error with everything the one failure report shows: what failed, with which
/// inputs, what was tried, and the final error.
public struct BootFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Input: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public var phase: BootPhase
    /// What the boot was doing, as a phrase: "mounting the NFS root".
    public var action: String
    public var inputs: [Input]
    /// One line per attempt, oldest first.
    public var attempts: [String]
    public var error: String

    public init(phase: BootPhase, action: String, inputs: [Input] = [], attempts: [String] = [], error: String) {
        self.phase = phase
        self.action = action
        self.inputs = inputs
        self.attempts = attempts
        self.error = error
    }

    public var description: String { "\(action) failed: \(error)" }
}

/// The failure report printed once on the console (and kept in boot.log).
public struct FailureReport: Sendable, Equatable {
    public var failure: BootFailure
    public var phaseMilliseconds: UInt64
    public var bootMilliseconds: UInt64
    /// What happens next: "starting a shell", "reboot in 10 s".
    public var next: String
    /// Attempts shown at the start and end of a long list; the middle is counted.
    public var shownAttemptsHead = 3
    public var shownAttemptsTail = 5

    public init(failure: BootFailure, phaseMilliseconds: UInt64, bootMilliseconds: UInt64, next: String) {
        self.failure = failure
        self.phaseMilliseconds = phaseMilliseconds
        self.bootMilliseconds = bootMilliseconds
        self.next = next
    }

    public var lines: [String] {
        var lines = ["==== BOOT FAILED: \(failure.action) ===="]
        lines.append("phase:   \(failure.phase.rawValue)")
        if !failure.inputs.isEmpty {
            lines.append("inputs:  " + failure.inputs.map { "\($0.name)=\($0.value)" }.joined(separator: " "))
        }
        lines.append("error:   \(failure.error)")
        let attempts = failure.attempts
        if !attempts.isEmpty {
            lines.append(
                "tried:   \(attempts.count) attempt\(attempts.count == 1 ? "" : "s") in \(Self.seconds(phaseMilliseconds))"
            )
            if attempts.count <= shownAttemptsHead + shownAttemptsTail {
                lines += attempts.map { "  " + $0 }
            } else {
                lines += attempts.prefix(shownAttemptsHead).map { "  " + $0 }
                lines.append("  ... \(attempts.count - shownAttemptsHead - shownAttemptsTail) more ...")
                lines += attempts.suffix(shownAttemptsTail).map { "  " + $0 }
            }
        }
        lines.append(
            "time:    \(Self.seconds(phaseMilliseconds)) in this phase, \(Self.seconds(bootMilliseconds)) since kernel start"
        )
        lines.append("next:    \(next)")
        lines.append("==== END OF REPORT ====")
        return lines
    }

    /// "12.3 s"
    static func seconds(_ milliseconds: UInt64) -> String {
        "\(milliseconds / 1000).\(milliseconds % 1000 / 100) s"
    }
}
