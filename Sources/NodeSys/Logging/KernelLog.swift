import Glibc
import Logging
import Synchronization
import SystemPackage

/// The boot log sink: every line goes to the console and /dev/kmsg with a CLOCK_BOOTTIME timestamp,
/// is kept in memory, and is appended to a file (/run/nodeinit/boot.log) once one is attached.
///
/// A line the kernel will itself echo to the console (its level is below the console log level
/// from /proc/sys/kernel/printk) is written to /dev/kmsg only, so the console never shows it twice;
/// other lines (debug, or everything under `quiet`) are written to the console directly.
public final class KernelLog: Sendable {
    private struct State {
        var kmsg: FileDescriptor?
        var file: FileDescriptor?
        var consoleLogLevel: Int = 7
        var lines: [String] = []
    }

    private let state = Mutex(State())
    private let console: FileDescriptor
    public let label: String

    /// The process-wide sink PID 1 logs through.
    public static let boot = KernelLog(label: "nodeinit")

    public init(label: String, console: FileDescriptor = .standardError) {
        self.label = label
        self.console = console
    }

    /// Opens /dev/kmsg (once /dev is mounted), lifts the kernel's rate limit on user writes
    /// (10 lines per 5 s by default would drop boot lines), and reads the console log level.
    public func attachKernelLog() {
        try? FileContents.write("on\n", to: "/proc/sys/kernel/printk_devkmsg")
        let level = (try? FileContents.string(at: "/proc/sys/kernel/printk", limit: 256))
            .flatMap { $0.split(whereSeparator: { $0 == " " || $0 == "\t" }).first }
            .flatMap { Int($0) }
        let fd = try? FileDescriptor.open("/dev/kmsg", .writeOnly, options: [.closeOnExec])
        state.withLock {
            if let old = $0.kmsg { try? old.close() }
            $0.kmsg = fd
            if let level { $0.consoleLogLevel = level }
        }
    }

    /// Appends the lines logged so far to `path`, then every later line.
    public func attachFile(path: String) throws(FileContents.Error) {
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(
                FilePath(path), .writeOnly, options: [.create, .append, .closeOnExec],
                permissions: [.ownerReadWrite, .groupRead])
        } catch {
            throw .open(path: path, Errno(thrown: error))
        }
        let earlier = state.withLock { state -> [String] in
            if let old = state.file { try? old.close() }
            state.file = fd
            return state.lines
        }
        _ = try? fd.writeAll(earlier.map { $0 + "\n" }.joined().utf8)
    }

    /// Every line logged so far, as written to the console.
    public var lines: [String] { state.withLock { $0.lines } }

    public func log(level: Logger.Level, _ message: String) {
        let now = MonotonicInstant.now()
        let priority = Self.syslogPriority(level)
        // One kernel record per line keeps multi-line reports readable in dmesg.
        for text in message.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = "[\(now)] \(label): \(text)"
            state.withLock { state in
                state.lines.append(line)
                if let file = state.file { _ = try? file.writeAll((line + "\n").utf8) }
                var echoedByKernel = false
                if let kmsg = state.kmsg {
                    echoedByKernel =
                        (try? kmsg.writeAll("<\(priority)>\(label): \(text)".utf8)) != nil
                        && priority < state.consoleLogLevel
                }
                if !echoedByKernel { _ = try? console.writeAll((line + "\n").utf8) }
            }
        }
    }

    /// Writes text to the console only (countdowns, prompts), without keeping it.
    public func console(_ text: String) {
        _ = try? console.writeAll(text.utf8)
    }

    static func syslogPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }
}

/// swift-log handler over a KernelLog sink. Metadata is appended as sorted key=value pairs.
public struct KernelLogHandler: LogHandler {
    public let sink: KernelLog
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    public var metadataProvider: Logger.MetadataProvider?

    public init(sink: KernelLog = .boot, logLevel: Logger.Level = .info) {
        self.sink = sink
        self.logLevel = logLevel
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided, uniquingKeysWith: { $1 }) }
        if let extra = event.metadata { merged.merge(extra, uniquingKeysWith: { $1 }) }
        var text = event.message.description
        if !merged.isEmpty {
            text += " " + merged.sorted(by: { $0.key < $1.key }).map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        sink.log(level: event.level, text)
    }
}
