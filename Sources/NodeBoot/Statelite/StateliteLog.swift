import Logging
import NodeSys

/// `/.statelite/statelite.log` in the new root: one timestamped line per action (what, from where, to where) and
/// per warning, readable on the booted node. Lines written before the `/.statelite` tmpfs exists are kept and
/// flushed once it does. Warnings and refusals also go to the console (`console`), loudly, and so do notices and
/// loud actions.
public final class StateliteLog {
    public static let path = "/.statelite/statelite.log"
    private var pending: [String] = []
    private var root: ConfinedTree?
    private let console: (Logger.Level, String) -> Void
    /// Every line written, in order (tests and the boot report read it).
    public private(set) var lines: [String] = []

    /// `console` receives warnings, refusals, notices and loud actions with their level (the boot passes its logger).
    public init(console: @escaping (Logger.Level, String) -> Void = { _, _ in }) {
        self.console = console
    }

    /// From now on, lines are appended to `/.statelite/statelite.log` in `root`.
    public func attach(to root: ConfinedTree) {
        self.root = root
        let waiting = pending
        pending = []
        for line in waiting { append(line) }
    }

    /// An action: `what` done `from` a source `to` a target. `loud` also prints it on the console (mounts the
    /// admin should see at boot, such as the local disk).
    public func action(_ what: String, from source: String? = nil, to target: String? = nil, loud: Bool = false) {
        var text = what
        if let source { text += " from \(source)" }
        if let target { text += " to \(target)" }
        record("action", text)
        if loud { console(.notice, "statelite: \(text)") }
    }

    /// Something the admin should know; also printed on the console.
    public func warning(_ text: String) {
        record("WARNING", text)
        console(.warning, "statelite: WARNING: \(text)")
    }

    /// A path the init would not touch because of a symlink or a bad path; also printed on the console.
    public func refusal(_ text: String) {
        record("REFUSED", text)
        console(.warning, "statelite: REFUSED: \(text)")
    }

    /// An informational line (tables loaded, mounts).
    public func info(_ text: String) {
        record("info", text)
    }

    /// An informational line also printed on the console (a device being waited for).
    public func notice(_ text: String) {
        record("info", text)
        console(.notice, "statelite: \(text)")
    }

    private func record(_ level: String, _ text: String) {
        let line = "\(UTCTimestamp.now()) \(level) \(text)"
        lines.append(line)
        if root == nil { pending.append(line) } else { append(line) }
    }

    private func append(_ line: String) {
        guard let root else { return }
        do {
            try root.writeFile(Self.path, Array((line + "\n").utf8), permissions: 0o644, append: true)
        } catch {
            console(.warning, "statelite: cannot write \(Self.path): \(error)")
        }
    }
}
