import Logging
import NodeSys
import OverlayCapture
import Synchronization
import SystemPackage

@testable import NodeAgent

#if canImport(Glibc)
    import Glibc
#endif

/// A stand-in capture: a fixed summary and a layer of `layerSize` pattern bytes, written in
/// pieces with an optional pause between them so a test can act while the stream is running.
final class PatternProducer: LayerProducer {
    let layerSize: Int
    let pauseMilliseconds: Int
    /// How long a summary takes, so a test can act while one runs.
    let summaryMilliseconds: Int
    let failAfter: Int?
    let writes = Atomic<Int>(0)
    let finishedWithError = Atomic<Int>(0)
    let niceDuringCapture = Atomic<Int32>(-100)
    let ioClassDuringCapture = Atomic<Int32>(-100)

    init(layerSize: Int, pauseMilliseconds: Int = 0, summaryMilliseconds: Int = 0, failAfter: Int? = nil) {
        self.layerSize = layerSize
        self.pauseMilliseconds = pauseMilliseconds
        self.summaryMilliseconds = summaryMilliseconds
        self.failAfter = failAfter
    }

    static func byte(at index: Int) -> UInt8 { UInt8(truncatingIfNeeded: index &* 31 &+ index >> 9) }

    func summary(includePaths: Bool) throws -> LayerSummary {
        if summaryMilliseconds > 0 { Pause.sleep(milliseconds: summaryMilliseconds) }
        let json = includePaths ? #"{"entries":3,"paths":["/a","/b","/c"]}"# : #"{"entries":3}"#
        return LayerSummary(json: Array(json.utf8), entryCount: 3, contentBytes: UInt64(layerSize))
    }

    struct Stopped: Error, CustomStringConvertible { var description: String { "stopped on purpose" } }

    func writeLayer(to fd: FileDescriptor, compression: LayerCompressionFormat) throws -> [UInt8] {
        niceDuringCapture.store(ProcessControls.currentThreadNice(), ordering: .relaxed)
        ioClassDuringCapture.store(ProcessControls.currentThreadIOClass(), ordering: .relaxed)
        var offset = 0
        do {
            while offset < layerSize {
                if let failAfter, offset >= failAfter { throw Stopped() }
                let count = min(64 * 1024, layerSize - offset)
                let piece = (offset..<(offset + count)).map(Self.byte(at:))
                _ = try piece.withUnsafeBytes { try fd.writeAll($0) }
                offset += count
                writes.add(1, ordering: .relaxed)
                if pauseMilliseconds > 0 { Pause.sleep(milliseconds: pauseMilliseconds) }
            }
        } catch {
            finishedWithError.add(1, ordering: .relaxed)
            throw error
        }
        return Array(#"{"bytes":\#(layerSize)}"#.utf8)
    }
}

/// Collects log lines so tests can check what the agent reported.
final class LogCollector: Sendable {
    let lines = Mutex<[String]>([])

    func logger() -> Logger {
        Logger(label: "agent-test") { _ in CollectingHandler(collector: self) }
    }

    func contains(_ text: String) -> Bool { lines.withLock { $0.contains { $0.contains(text) } } }

    struct CollectingHandler: LogHandler {
        let collector: LogCollector
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            collector.lines.withLock { $0.append("\(event.level): \(event.message)") }
        }
    }
}

/// A loopback port nothing listens on, chosen by the kernel, for tests that start the agent as a separate process.
/// A port computed from the pid can land in the ephemeral range and collide with a connection another test in the
/// same run holds (in CI an agent on port 39100 exited before its first request, its error discarded); the kernel does not hand a port it just gave out to
/// the next ephemeral bind.
func unusedLoopbackPort() throws -> Int {
    let probe = try TCPListener.listen(on: IPAddress("127.0.0.1"), port: 0)
    defer { probe.close() }
    return Int(probe.localAddress.port)
}

/// Starts an agent on 127.0.0.1 with an ephemeral port, runs `body`, stops it.
func withAgent<T>(
    producer: any LayerProducer = PatternProducer(layerSize: 1000),
    allow: [String] = ["127.0.0.1"],
    token: String? = nil,
    requireReservedPort: Bool = false,
    configure: (inout AgentConfiguration) -> Void = { _ in },
    _ body: (NodeAgentServer, LogCollector) throws -> T
) throws -> T {
    let logs = LogCollector()
    var configuration = AgentConfiguration(
        listenAddress: IPAddress("127.0.0.1"), port: 0,
        access: AccessPolicy(
            allowlist: allow.compactMap { IPNetwork($0) }, token: token.flatMap(BearerToken.init),
            requireReservedPort: requireReservedPort),
        upperDirectory: "/test/upper", version: "test")
    configure(&configuration)
    let server = try NodeAgentServer(configuration: configuration, producer: producer, logger: logs.logger())
    try server.start()
    defer { server.stop() }
    return try body(server, logs)
}

/// Sends raw bytes and returns everything the server sends back until it closes.
func rawExchange(_ endpoint: SocketAddress, _ request: String, from source: IPAddress? = nil) throws -> String {
    let connection = try TCPStream.connect(to: endpoint, from: source)
    defer { connection.close() }
    try connection.send(request)
    var response: [UInt8] = []
    while true {
        let chunk = try connection.receive(maxCount: 65536, timeoutMilliseconds: 10_000)
        if chunk.isEmpty { break }
        response += chunk
    }
    return String(decoding: response, as: UTF8.self)
}

/// Waits until `condition` holds, up to `seconds`.
func eventually(seconds: Int = 10, _ condition: () -> Bool) -> Bool {
    for _ in 0..<(seconds * 50) {
        if condition() { return true }
        Pause.sleep(milliseconds: 20)
    }
    return condition()
}

/// A fresh temporary directory for one test, removed by the caller with `removeTree`.
func makeTemporaryDirectory(_ label: String) throws -> String {
    var template = Array("/tmp/agent-\(label)-XXXXXX".utf8CString)
    let result = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }
    guard result != nil else { throw Errno(rawValue: errno) }
    return String(decoding: template.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

func removeTree(_ path: String) {
    guard path.hasPrefix("/tmp/agent-") else { return }
    try? ChildCommand.run(["rm", "-rf", "--one-file-system", "--", path])
}

func writeFile(_ path: String, _ contents: String, mode: mode_t = 0o644) throws {
    let fd = try FileDescriptor.open(
        FilePath(path), .writeOnly, options: [.create, .truncate], permissions: FilePermissions(rawValue: mode))
    defer { try? fd.close() }
    _ = try fd.writeAll(Array(contents.utf8))
    _ = fchmod(fd.rawValue, mode)
}

func readFile(_ path: String) throws -> [UInt8] {
    let fd = try FileDescriptor.open(FilePath(path), .readOnly)
    defer { try? fd.close() }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = try buffer.withUnsafeMutableBytes { try fd.read(into: $0) }
        if count == 0 { return bytes }
        bytes += buffer[0..<count]
    }
}
