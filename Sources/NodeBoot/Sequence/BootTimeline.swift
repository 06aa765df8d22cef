import JSONCoding
import NodeSys

/// Per-phase timings of one boot, written to /run/nodeinit/boot.json. Times are milliseconds on
/// CLOCK_BOOTTIME, i.e. since the kernel started.
public struct BootTimeline: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var phase: BootPhase
        public var startMilliseconds: UInt64
        public var durationMilliseconds: UInt64
        public var succeeded: Bool
    }

    public enum Outcome: String, Sendable, Equatable {
        case running, switchRoot = "switch_root", failed
    }

    public var initStartMilliseconds: UInt64
    public var entries: [Entry] = []
    public var outcome: Outcome = .running
    /// Set when the outcome is `.switchRoot`: the moment right before exec of the image's init.
    public var initExecMilliseconds: UInt64?
    public var failure: String?

    public init(initStartMilliseconds: UInt64) {
        self.initStartMilliseconds = initStartMilliseconds
    }

    /// Adds a phase; a phase recorded right after an entry of the same phase extends that entry (the statelite steps
    /// form one phase).
    public mutating func record(_ phase: BootPhase, start: MonotonicInstant, end: MonotonicInstant, succeeded: Bool) {
        if let last = entries.last, last.phase == phase, last.succeeded {
            entries[entries.count - 1].durationMilliseconds =
                end.milliseconds - min(last.startMilliseconds, end.milliseconds)
            entries[entries.count - 1].succeeded = succeeded
            return
        }
        entries.append(
            Entry(
                phase: phase, startMilliseconds: start.milliseconds,
                durationMilliseconds: end.milliseconds(since: start), succeeded: succeeded))
    }

    /// The JSON document: one object, phases in the order they ran, keys in a fixed order.
    public var json: String {
        var fields: [String] = [
            "\"init_start_ms\":\(initStartMilliseconds)",
            "\"outcome\":\(JSONText.quoted(outcome.rawValue))",
        ]
        if let initExecMilliseconds {
            fields.append("\"init_exec_ms\":\(initExecMilliseconds)")
        }
        if let failure { fields.append("\"failure\":\(JSONText.quoted(failure))") }
        let phases = entries.map { entry in
            "{\"name\":\(JSONText.quoted(entry.phase.rawValue)),\"start_ms\":\(entry.startMilliseconds),"
                + "\"duration_ms\":\(entry.durationMilliseconds),\"ok\":\(entry.succeeded)}"
        }
        fields.append("\"phases\":[\(phases.joined(separator: ","))]")
        return "{" + fields.joined(separator: ",") + "}\n"
    }

    /// One line per phase for the console: "nfs-root 1234 ms".
    public var summary: String {
        entries.map { "\($0.phase.rawValue) \($0.durationMilliseconds) ms\($0.succeeded ? "" : " (failed)")" }
            .joined(separator: ", ")
    }
}
