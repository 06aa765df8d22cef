import NodeSys
import SystemPackage

/// Where a pull stands, for a progress display.
public struct PullProgress: Sendable, Equatable {
    /// Layer bytes received (compressed size for a compressed layer).
    public var streamBytes: UInt64 = 0
    /// Tar entries seen so far, and file content bytes among them.
    public var entries: UInt64 = 0
    public var contentBytes: UInt64 = 0
    /// Totals from the summary: nil until it arrives (the pull asks for it beside the layer).
    public var totals: Totals?
    public var elapsedSeconds: Double = 0
    /// True for gzip/zstd layers, whose received size says little about the content done.
    public var compressed = false

    /// What the node's summary says the whole layer holds.
    public struct Totals: Sendable, Equatable {
        public var entries: UInt64
        public var contentBytes: UInt64

        public init(entries: UInt64, contentBytes: UInt64) {
            self.entries = entries
            self.contentBytes = contentBytes
        }
    }

    public init() {}

    /// Content bytes done: entries passed, or for a plain tar the bytes received (headers make
    /// that a slight overestimate, capped at the total once it is known).
    public var contentDone: UInt64 {
        guard let totals else { return compressed ? contentBytes : max(contentBytes, streamBytes) }
        let passed = min(contentBytes, totals.contentBytes)
        return compressed ? passed : max(passed, min(streamBytes, totals.contentBytes))
    }

    /// One line: "[#####...............] 25%  12.0 MiB of 40.0 MiB  1234/5000 entries  8.0 MiB/s  ETA 0:04";
    /// before the summary has come, "12.0 MiB  1234 entries  8.0 MiB/s".
    /// Rate and ETA use file content bytes, which the summary knows in advance, so the estimate
    /// holds for compressed layers too.
    public var line: String {
        var parts: [String] = []
        let done = contentDone
        if let totals {
            if totals.contentBytes > 0 {
                let fraction = Double(done) / Double(totals.contentBytes)
                parts.append("\(Self.bar(fraction: fraction)) \(Int(fraction * 100))%")
            }
            parts.append("\(Self.size(done)) of \(Self.size(totals.contentBytes))")
            parts.append("\(entries)/\(totals.entries) entries")
        } else {
            parts.append(Self.size(done))
            parts.append("\(entries) entries")
        }
        if compressed { parts.append("\(Self.size(streamBytes)) received") }
        if elapsedSeconds > 0.2 {
            let rate = Double(done) / elapsedSeconds
            parts.append("\(Self.size(UInt64(rate)))/s")
            if rate > 0, let total = totals?.contentBytes, total > done {
                parts.append("ETA \(Self.clock(Double(total - done) / rate))")
            }
        }
        return parts.joined(separator: "  ")
    }

    static func bar(fraction: Double) -> String {
        let width = 20
        let filled = max(0, min(width, Int(fraction * Double(width))))
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]"
    }

    static func size(_ bytes: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 { return "\(bytes) B" }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }

    static func clock(_ seconds: Double) -> String {
        // A stalled transfer gives absurd estimates (or infinity); do not let them reach Int().
        guard seconds.isFinite, seconds >= 0, seconds < 100 * 3600 else { return "--:--" }
        let total = Int(seconds.rounded(.up))
        let minutes = total / 60
        let rest = total % 60
        if minutes >= 60 { return "\(minutes / 60):\(pad(minutes % 60)):\(pad(rest))" }
        return "\(minutes):\(pad(rest))"
    }

    private static func pad(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}

/// Draws `PullProgress` on stderr: redrawn in place on a terminal (at most 5 times a second),
/// one line every 5 seconds otherwise (logs).
public final class ProgressRenderer: @unchecked Sendable {
    private let output: FileDescriptor
    private let interactive: Bool
    private var lastDraw: ContinuousClock.Instant?
    private var drewSomething = false

    public init(output: FileDescriptor = .standardError) {
        self.output = output
        interactive = ProcessControls.isTerminal(output)
    }

    public func update(_ progress: PullProgress) {
        let now = ContinuousClock.now
        let interval: Duration = interactive ? .milliseconds(200) : .seconds(5)
        if let lastDraw, now - lastDraw < interval { return }
        lastDraw = now
        draw(progress)
    }

    public func finish(_ progress: PullProgress) {
        draw(progress)
        endLine()
    }

    /// Ends an in-place line so other messages start on a fresh one.
    public func endLine() {
        if interactive && drewSomething { write("\n") }
        drewSomething = false
    }

    private func draw(_ progress: PullProgress) {
        write(interactive ? "\r\u{1b}[K" + progress.line : progress.line + "\n")
        drewSomething = true
    }

    private func write(_ text: String) {
        _ = try? output.writeAll(Array(text.utf8))
    }
}
