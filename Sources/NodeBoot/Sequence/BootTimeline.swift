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
        /// Ran on a thread of its own beside the phases after its start (not part of the boot's critical path
        /// unless a later phase waited for it).
        public var background = false
        /// For a background entry: how long the boot blocked waiting for it to end.
        public var waitedMilliseconds: UInt64 = 0
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
        // Background entries in between do not part two runs of one phase.
        if let lastIndex = entries.lastIndex(where: { !$0.background }), entries[lastIndex].phase == phase,
            entries[lastIndex].succeeded
        {
            entries[lastIndex].durationMilliseconds =
                end.milliseconds - min(entries[lastIndex].startMilliseconds, end.milliseconds)
            entries[lastIndex].succeeded = succeeded
            return
        }
        entries.append(
            Entry(
                phase: phase, startMilliseconds: start.milliseconds,
                durationMilliseconds: end.milliseconds(since: start), succeeded: succeeded))
    }

    /// Adds work that ran beside the phases: its own entry, placed by its start time, never merged.
    public mutating func recordBackground(
        _ phase: BootPhase, start: MonotonicInstant, end: MonotonicInstant, succeeded: Bool, waitedMilliseconds: UInt64
    ) {
        var entry = Entry(
            phase: phase, startMilliseconds: start.milliseconds, durationMilliseconds: end.milliseconds(since: start),
            succeeded: succeeded)
        entry.background = true
        entry.waitedMilliseconds = waitedMilliseconds
        let index = entries.firstIndex { $0.startMilliseconds > entry.startMilliseconds } ?? entries.count
        entries.insert(entry, at: index)
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
                + "\"duration_ms\":\(entry.durationMilliseconds),\"ok\":\(entry.succeeded)"
                + (entry.background ? ",\"background\":true,\"waited_ms\":\(entry.waitedMilliseconds)}" : "}")
        }
        fields.append("\"phases\":[\(phases.joined(separator: ","))]")
        return "{" + fields.joined(separator: ",") + "}\n"
    }

    /// One line per phase for the console: "nfs-root 1234 ms".
    public var summary: String {
        entries.map {
            "\($0.phase.rawValue) \($0.durationMilliseconds) ms\($0.background ? " (beside, waited \($0.waitedMilliseconds) ms)" : "")\($0.succeeded ? "" : " (failed)")"
        }
            .joined(separator: ", ")
    }
}
