import NodeSys
import Synchronization
import SystemPackage

/// The progress display of a multi-node pull or save, on stderr.
///
/// On a terminal: one line per node in progress, redrawn in place (at most 5 times a second) below the lines of
/// the nodes already done, which stay; so hundreds of nodes never need more than `parallel` live lines.
/// Not on a terminal (a log, a pipe): one line when a node starts and one when it ends, nothing in between.
public final class MultiNodeProgressBoard: MultiNodeObserver, @unchecked Sendable {
    private struct State {
        /// Nodes in progress, in the order they started, with their latest status.
        var active: [(node: String, status: String)] = []
        /// Live lines currently on screen (terminal mode), to move the cursor back over.
        var drawnLines = 0
        var lastDraw: ContinuousClock.Instant?
        var done = 0
    }

    private let output: FileDescriptor
    private let interactive: Bool
    private let columns: Int
    private let total: Int
    /// Live lines pad node names to this, so the bars line up.
    private let nameWidth: Int
    private let verb: String
    private let state = Mutex(State())

    /// `verb` names the work in the end lines ("pulled", "saved").
    public init(
        nodes: [String], verb: String = "pulled", output: FileDescriptor = .standardError, interactive: Bool? = nil
    ) {
        self.output = output
        self.interactive = interactive ?? ProcessControls.isTerminal(output)
        columns = ProcessControls.terminalColumns(output) ?? 80
        total = nodes.count
        nameWidth = min(40, nodes.map(\.count).max() ?? 0)
        self.verb = verb
    }

    public func started(_ node: String) {
        state.withLock { state in
            state.active.append((node, "connecting"))
            if interactive { redraw(&state, permanent: []) } else { write("\(node): started\n") }
        }
    }

    public func progress(_ node: String, _ status: String) {
        guard interactive else { return }
        state.withLock { state in
            guard let index = state.active.firstIndex(where: { $0.node == node }) else { return }
            state.active[index].status = status
            let now = ContinuousClock.now
            if let last = state.lastDraw, now - last < .milliseconds(200) { return }
            redraw(&state, permanent: [])
        }
    }

    public func finished(_ outcome: NodeOutcome) {
        state.withLock { state in
            state.active.removeAll { $0.node == outcome.node }
            state.done += 1
            let line = "\(outcome.node): \(Self.ending(outcome, verb: verb)) [\(state.done)/\(total)]"
            if interactive { redraw(&state, permanent: [line]) } else { write(line + "\n") }
        }
    }

    /// "ok, 1234 entries, 10.0 MiB in 2.1 s (4.8 MiB/s)" or "failed: refused: cannot connect to ...".
    static func ending(_ outcome: NodeOutcome, verb: String) -> String {
        if let failure = outcome.failure { return "failed: \(failure)" }
        var text =
            "\(verb) \(outcome.entries) entries, \(PullProgress.size(outcome.bytes)) in \(Self.fixed(outcome.seconds, 1)) s"
        if let rate = outcome.mebibytesPerSecond { text += " (\(Self.fixed(rate, 1)) MiB/s)" }
        return text
    }

    private func redraw(_ state: inout State, permanent: [String]) {
        var text = ""
        // Back to the first live line, and clear from there down.
        if state.drawnLines > 0 { text += "\u{1b}[\(state.drawnLines)A" }
        text += "\r\u{1b}[J"
        for line in permanent { text += line + "\n" }
        let width = max(20, columns - 1)
        for (node, status) in state.active {
            // A wrapped line would throw off the cursor movement above: cut to the terminal's width.
            let padding = String(repeating: " ", count: max(0, nameWidth - node.count))
            text += String("\(node)\(padding)  \(status)".prefix(width)) + "\n"
        }
        state.drawnLines = state.active.count
        state.lastDraw = ContinuousClock.now
        write(text)
    }

    private func write(_ text: String) {
        _ = try? output.writeAll(Array(text.utf8))
    }

    static func fixed(_ value: Double, _ decimals: Int) -> String {
        guard value.isFinite else { return "-" }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = Int((value * scale).rounded())
        let whole = scaled / Int(scale)
        let fraction = String(scaled % Int(scale))
        return decimals == 0
            ? "\(whole)" : "\(whole)." + String(repeating: "0", count: decimals - fraction.count) + fraction
    }
}

/// The table printed at the end of a multi-node pull or save, one row per node in the order given, then the
/// failures in full (the table keeps only their kind, so it stays readable for hundreds of nodes).
public enum MultiNodeSummaryTable {
    public static let columns = ["node", "outcome", "entries", "bytes", "seconds", "MiB/s"]

    /// The cells of each row, as printed.
    public static func rows(_ outcomes: [NodeOutcome]) -> [[String]] {
        outcomes.map { outcome in
            let ok = outcome.succeeded
            return [
                outcome.node,
                outcome.failure.map { "failed: \($0.kind)" } ?? "ok",
                ok ? "\(outcome.entries)" : "-",
                ok ? "\(outcome.bytes)" : "-",
                MultiNodeProgressBoard.fixed(outcome.seconds, 2),
                ok ? (outcome.mebibytesPerSecond.map { MultiNodeProgressBoard.fixed($0, 2) } ?? "-") : "-",
            ]
        }
    }

    public static func render(_ outcomes: [NodeOutcome]) -> String {
        let table = [columns] + rows(outcomes)
        var widths = Array(repeating: 0, count: columns.count)
        for row in table { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        var text = ""
        for row in table {
            var cells: [String] = []
            for (index, cell) in row.enumerated() {
                let padding = String(repeating: " ", count: widths[index] - cell.count)
                // Names and outcomes left-aligned, figures right-aligned.
                cells.append(index < 2 ? cell + padding : padding + cell)
            }
            var line = cells.joined(separator: "  ")
            while line.hasSuffix(" ") { line.removeLast() }
            text += line + "\n"
        }
        let failed = outcomes.filter { !$0.succeeded }
        text +=
            "\(outcomes.count) node\(outcomes.count == 1 ? "" : "s"): \(outcomes.count - failed.count) ok, \(failed.count) failed\n"
        for outcome in failed {
            if let failure = outcome.failure { text += "  \(outcome.node): \(failure)\n" }
        }
        return text
    }
}
