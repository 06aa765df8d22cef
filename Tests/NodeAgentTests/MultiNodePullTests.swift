import Foundation
import NodeSys
import OverlayCapture
import Synchronization
import SystemPackage
import Testing

@testable import NodeAgent
@testable import NodeSaveClient

#if canImport(Glibc)
    import Glibc
#endif

/// Counts nodes being served at once across several agents (the bound of a multi-node pull), and the
/// requests served in all.
final class ConcurrencyGauge: Sendable {
    private let current = Atomic<Int>(0)
    let highest = Atomic<Int>(0)
    let served = Atomic<Int>(0)

    func enter() {
        let now = current.add(1, ordering: .sequentiallyConsistent).newValue
        var seen = highest.load(ordering: .sequentiallyConsistent)
        while now > seen {
            let (exchanged, original) = highest.compareExchange(
                expected: seen, desired: now, ordering: .sequentiallyConsistent)
            if exchanged { break }
            seen = original
        }
    }

    func leave() { current.subtract(1, ordering: .sequentiallyConsistent) }
}

/// One node's agent: serves a fixed, valid layer in 64 KiB pieces with a pause after each, so pulls overlap in
/// time. The gauge, shared by all nodes, counts this node once while any of its requests runs (a pull asks for
/// the summary beside the layer).
final class PacedLayerProducer: LayerProducer {
    let layer: [UInt8]
    let entries: UInt64
    let pauseMilliseconds: Int
    let gauge: ConcurrencyGauge
    private let active = Atomic<Int>(0)

    init(layer: [UInt8], entries: UInt64, pauseMilliseconds: Int, gauge: ConcurrencyGauge) {
        self.layer = layer
        self.entries = entries
        self.pauseMilliseconds = pauseMilliseconds
        self.gauge = gauge
    }

    private func begin() {
        gauge.served.add(1, ordering: .relaxed)
        if active.add(1, ordering: .sequentiallyConsistent).newValue == 1 { gauge.enter() }
    }

    private func end() {
        if active.subtract(1, ordering: .sequentiallyConsistent).newValue == 0 { gauge.leave() }
    }

    func summary(includePaths: Bool) throws -> LayerSummary {
        begin()
        defer { end() }
        return LayerSummary(
            json: Array(#"{"entries":\#(entries)}"#.utf8), entryCount: entries, contentBytes: UInt64(layer.count))
    }

    func writeLayer(to fd: FileDescriptor, compression: LayerCompressionFormat) throws -> [UInt8] {
        begin()
        defer { end() }
        var offset = 0
        while offset < layer.count {
            let end = min(layer.count, offset + 64 * 1024)
            _ = try layer[offset..<end].withUnsafeBytes { try fd.writeAll($0) }
            offset = end
            if pauseMilliseconds > 0 { Pause.sleep(milliseconds: pauseMilliseconds) }
        }
        return Array(#"{"bytes":\#(layer.count)}"#.utf8)
    }
}

/// Writes the first `cutAt` bytes of a layer, then fails as a capture that breaks midway.
struct CuttingProducer: LayerProducer {
    let layer: [UInt8]
    let cutAt: Int
    struct Broken: Error {}
    func summary(includePaths: Bool) throws -> LayerSummary {
        LayerSummary(json: Array("{}".utf8), entryCount: 3, contentBytes: UInt64(layer.count))
    }
    func writeLayer(to fd: FileDescriptor, compression: LayerCompressionFormat) throws -> [UInt8] {
        _ = try layer.prefix(cutAt).withUnsafeBytes { try fd.writeAll($0) }
        throw Broken()
    }
}

/// Starts one agent per producer (127.0.0.1, ephemeral ports), runs `body` with them, stops them all.
func withAgents<T>(
    _ producers: [any LayerProducer], allow: (Int) -> [String] = { _ in ["127.0.0.1"] },
    requireReservedPort: Bool = true, _ body: ([NodeAgentServer]) throws -> T
) throws -> T {
    var servers: [NodeAgentServer] = []
    defer { for server in servers { server.stop() } }
    for (index, producer) in producers.enumerated() {
        let configuration = AgentConfiguration(
            listenAddress: IPAddress("127.0.0.1"), port: 0,
            access: AccessPolicy(
                allowlist: allow(index).compactMap { IPNetwork($0) }, token: nil,
                requireReservedPort: requireReservedPort),
            upperDirectory: "/test/upper", version: "test")
        let server = try NodeAgentServer(
            configuration: configuration, producer: producer, logger: LogCollector().logger())
        try server.start()
        servers.append(server)
    }
    return try body(servers)
}

/// A port nobody listens on, held for the test: a TCP socket bound to it but not listening, so connections are
/// refused and no test running alongside can take the port meanwhile.
final class DeadPort {
    let fd: Int32
    let endpoint: SocketAddress

    init() throws {
        let raw = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard raw >= 0 else { throw Errno(rawValue: errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(raw, generic, length) == 0 && getsockname(raw, generic, &length) == 0
            }
        }
        guard bound, let loopback = IPAddress("127.0.0.1") else {
            let saved = Errno(rawValue: errno)
            close(raw)
            throw saved
        }
        fd = raw
        endpoint = SocketAddress(loopback, port: UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }
}

/// A small valid tar layer (three files, one of 1 MiB) made by tar(1), and its entry count.
func sampleLayer() throws -> (bytes: [UInt8], entries: UInt64) {
    let directory = try makeTemporaryDirectory("multi-layer")
    defer { removeTree(directory) }
    try FileManager.default.createDirectory(atPath: directory + "/tree/etc", withIntermediateDirectories: true)
    try writeFile(directory + "/tree/etc/motd", "saved\n")
    try writeFile(directory + "/tree/big", String(repeating: "b", count: 1 << 20))
    try runTool(["tar", "--format=pax", "-cf", directory + "/layer.tar", "-C", directory + "/tree", "etc", "big"])
    return (try readFile(directory + "/layer.tar"), 3)
}

/// Records what the progress display would be told.
final class RecordingObserver: MultiNodeObserver {
    let events = Mutex<[String]>([])
    func started(_ node: String) { events.withLock { $0.append("start \(node)") } }
    func progress(_ node: String, _ status: String) {}
    func finished(_ outcome: NodeOutcome) {
        events.withLock { $0.append("end \(outcome.node) \(outcome.succeeded ? "ok" : "failed")") }
    }
}

@Suite struct NodeListTests {
    @Test func parsesOneNodePerLineWithComments() throws {
        let text = "# rack 1\nnode1\n  node2  # spare\n\n10.0.0.7:7071\r\n[2001:db8::5]:7070\n"
        #expect(try NodeList.parse(text) == ["node1", "node2", "10.0.0.7:7071", "[2001:db8::5]:7070"])
        #expect(throws: NodeList.Error.invalidLine(path: "f", line: 2, "node1 node2")) {
            try NodeList.parse("ok\nnode1 node2\n", path: "f")
        }
    }

    @Test func combinesArgumentsAndFileOnceEach() throws {
        #expect(try NodeList.combine(["a"], ["b", "c"]) == ["a", "b", "c"])
        #expect(throws: NodeList.Error.duplicate("b")) { try NodeList.combine(["a", "b"], ["b"]) }
        #expect(throws: NodeList.Error.empty) { try NodeList.combine([], []) }
    }

    @Test func twoNamesForOneAgentAreRefused() throws {
        let directory = try makeTemporaryDirectory("hosts")
        defer { removeTree(directory) }
        try writeFile(directory + "/hosts", "10.0.0.5 node05 n5\n10.0.0.6 node06\n")
        let hosts = directory + "/hosts"
        let endpoint = SocketAddress(try #require(IPAddress("10.0.0.5")), port: 7070)
        #expect(throws: NodeList.Error.sameAgent("node05", "10.0.0.5", endpoint)) {
            try NodeList.checkDistinctAgents(["node05", "node06", "10.0.0.5"], hostsFile: hosts)
        }
        #expect(throws: NodeList.Error.sameAgent("node05", "n5", endpoint)) {
            try NodeList.checkDistinctAgents(["node05", "n5"], hostsFile: hosts)
        }
        // Another port is another agent; an unknown name is left for its pull to report.
        try NodeList.checkDistinctAgents(["node05", "node05:7071", "unknown"], hostsFile: hosts)
    }

    @Test func parallelIsBounded() {
        #expect(throws: MultiNodeRun.Error.invalidParallel(0)) { try MultiNodeRun(nodes: ["a"], parallel: 0) }
        #expect(throws: MultiNodeRun.Error.invalidParallel(65)) { try MultiNodeRun(nodes: ["a"], parallel: 65) }
    }

    @Test func saveTemplatesNeedTheNode() throws {
        let pull = MultiNodePullJob(directory: ".")
        #expect(throws: MultiNodeSaveJob.Error.templateWithoutNode(option: "--to", "/srv/new")) {
            try MultiNodeSaveJob(image: "/srv/base", targetTemplate: "/srv/new", keepLayerTemplate: nil, pull: pull)
        }
        let job = try MultiNodeSaveJob(
            image: "/srv/base", targetTemplate: "/srv/{node}/img-{node}", keepLayerTemplate: nil, pull: pull)
        #expect(job.target(for: "n1") == "/srv/n1/img-n1")
    }

    @Test func exitStatusAndTable() {
        let ok = NodeOutcome(node: "node1", entries: 12, bytes: 2 << 20, seconds: 2, output: "/o/node1.tar")
        let dead = NodeOutcome(
            node: "node22", failure: NodeFailure(kind: "refused", message: "cannot connect to 10.0.0.22:7070"),
            seconds: 0.004)
        #expect(MultiNodeRun.exitStatus([ok, ok]) == 0)
        #expect(MultiNodeRun.exitStatus([ok, dead]) == MultiNodeRun.ExitStatus.someFailed)
        #expect(MultiNodeRun.exitStatus([dead]) == MultiNodeRun.ExitStatus.allFailed)
        let table = MultiNodeSummaryTable.render([ok, dead])
        #expect(
            table == """
                node    outcome          entries    bytes  seconds  MiB/s
                node1   ok                    12  2097152     2.00   1.00
                node22  failed: refused        -        -     0.00      -
                2 nodes: 1 ok, 1 failed
                  node22: refused: cannot connect to 10.0.0.22:7070

                """)
    }

    @Test func notOnATerminalOneLineAtStartAndEnd() throws {
        let directory = try makeTemporaryDirectory("board")
        defer { removeTree(directory) }
        let fd = try FileDescriptor.open(
            FilePath(directory + "/log"), .writeOnly, options: [.create], permissions: .ownerReadWrite)
        let board = MultiNodeProgressBoard(nodes: ["node1", "node2"], output: fd, interactive: false)
        board.started("node1")
        board.progress("node1", "[####] 50%")
        board.finished(NodeOutcome(node: "node1", entries: 3, bytes: 1 << 20, seconds: 0.5))
        board.started("node2")
        board.finished(NodeOutcome(node: "node2", failure: NodeFailure(kind: "forbidden", message: "403")))
        try fd.close()
        let lines = String(decoding: try readFile(directory + "/log"), as: UTF8.self).split(separator: "\n")
        #expect(
            lines == [
                "node1: started", "node1: pulled 3 entries, 1.0 MiB in 0.5 s (2.0 MiB/s) [1/2]", "node2: started",
                "node2: failed: forbidden: 403 [2/2]",
            ])
    }
}

@Suite(.serialized, .enabled(if: getuid() == 0, "needs root: pulls bind reserved source ports"))
struct MultiNodePullTests {
    /// Six agents, two at a time, plus a dead port and an agent that answers 403: every good layer arrives
    /// byte for byte, the two bad nodes are reported by name and kind, and no more than two nodes are
    /// ever served at once.
    @Test func pullsSixNodesTwoAtATimeAndReportsTheBadOnes() throws {
        let layer = try sampleLayer()
        let gauge = ConcurrencyGauge()
        let producers = (0..<7).map { _ in
            PacedLayerProducer(layer: layer.bytes, entries: layer.entries, pauseMilliseconds: 15, gauge: gauge)
        }
        let output = try makeTemporaryDirectory("multi-pull")
        defer { removeTree(output) }
        let deadPort = try DeadPort()
        let dead = deadPort.endpoint
        // Agent 6 admits only another address: it answers 403 at accept.
        try withAgents(producers, allow: { $0 == 6 ? ["10.255.0.1"] : ["127.0.0.1"] }) {
            servers in
            let good = servers.prefix(6).map { "\($0.localAddress)" }
            let forbidden = "\(servers[6].localAddress)"
            let nodes = [good[0], good[1], "\(dead)", good[2], forbidden, good[3], good[4], good[5]]
            let observer = RecordingObserver()
            let job = MultiNodePullJob(directory: output + "/", writeSummaries: true)
            let outcomes = try MultiNodeRun(nodes: nodes, parallel: 2).run(observer: observer) { node, progress in
                try job.run(node, progress: progress)
            }

            #expect(outcomes.map(\.node) == nodes)
            for node in good {
                let outcome = try #require(outcomes.first { $0.node == node })
                #expect(outcome.succeeded, "\(node): \(outcome.failure.map(\.description) ?? "")")
                #expect(outcome.entries == layer.entries)
                #expect(outcome.bytes == UInt64(layer.bytes.count))
                #expect(outcome.output == output + "/\(node).tar")
                #expect(try readFile(output + "/\(node).tar") == layer.bytes)
                #expect(try readFile(output + "/\(node).summary.json") == Array(#"{"entries":3}"#.utf8))
            }
            let refused = try #require(outcomes.first { $0.node == "\(dead)" }?.failure)
            #expect(refused.kind == "refused")
            #expect(refused.message.contains("\(dead)"))
            let denied = try #require(outcomes.first { $0.node == forbidden }?.failure)
            #expect(denied.kind == "forbidden")
            #expect(denied.message.contains("403"))
            // Only the good nodes' files, and no partial file left behind by the bad ones.
            let expected = good.flatMap { ["\($0).tar", "\($0).summary.json"] }.sorted()
            #expect(directoryNames(output) == expected)

            #expect(gauge.highest.load(ordering: .sequentiallyConsistent) == 2)
            #expect(gauge.served.load(ordering: .relaxed) == 12)
            #expect(MultiNodeRun.exitStatus(outcomes) == MultiNodeRun.ExitStatus.someFailed)
            let events = observer.events.withLock { $0 }
            #expect(events.count == 16)
            #expect(events.filter { $0.hasPrefix("end") && $0.hasSuffix("failed") }.count == 2)

            let rows = MultiNodeSummaryTable.rows(outcomes)
            #expect(rows.map { $0[0] } == nodes)
            #expect(rows[2][1] == "failed: refused")
            #expect(rows[4][1] == "failed: forbidden")
            #expect(rows[0][1] == "ok" && rows[0][2] == "3" && rows[0][3] == "\(layer.bytes.count)")
        }
    }

    /// Thirty-two pulls from reserved source ports, eight at a time, against agents that require them: the
    /// parallel binds never take the same port (the kernel refuses a second bind; the client moves on).
    @Test func parallelPullsEachBindTheirOwnReservedPort() throws {
        let layer = try sampleLayer()
        let gauge = ConcurrencyGauge()
        let producers = (0..<32).map { _ in
            PacedLayerProducer(layer: layer.bytes, entries: layer.entries, pauseMilliseconds: 0, gauge: gauge)
        }
        let output = try makeTemporaryDirectory("multi-ports")
        defer { removeTree(output) }
        try withAgents(producers, requireReservedPort: true) { servers in
            let nodes = servers.map { "\($0.localAddress)" }
            let job = MultiNodePullJob(directory: output)
            let outcomes = try MultiNodeRun(nodes: nodes, parallel: 8).run { node, progress in
                try job.run(node, progress: progress)
            }
            let failures = outcomes.compactMap { $0.failure.map { "\($0)" } }
            #expect(failures == [])
            #expect(gauge.highest.load(ordering: .sequentiallyConsistent) <= 8)
            #expect(directoryNames(output).count == 32)
        }
    }

    /// An agent that accepts (the kernel's backlog does) but never answers: a timeout, after the job's timeout.
    @Test func silentNodeTimesOut() throws {
        let silent = try TCPListener.listen(on: IPAddress("127.0.0.1"), port: 0)
        defer { silent.close() }
        let output = try makeTemporaryDirectory("multi-silent")
        defer { removeTree(output) }
        var silentJob = MultiNodePullJob(directory: output)
        silentJob.timeoutMilliseconds = 300
        let job = silentJob
        let outcomes = try MultiNodeRun(nodes: ["\(silent.localAddress)"], parallel: 1).run { node, progress in
            try job.run(node, progress: progress)
        }
        #expect(outcomes[0].failure?.kind == "timeout", "\(outcomes[0])")
        #expect(outcomes[0].failure?.message.contains("sent nothing for 300 ms") == true)
        #expect(directoryNames(output) == [])
    }

    /// A reserved port whose last connection this side closed first sits in TIME_WAIT for 60 s; without
    /// SO_REUSEADDR it could not be bound again, and a few hundred pulls a minute would use up the 424 ports.
    @Test func aReservedPortInTimeWaitIsBoundAgain() throws {
        let first = try TCPListener.listen(on: IPAddress("127.0.0.1"), port: 0)
        let second = try TCPListener.listen(on: IPAddress("127.0.0.1"), port: 0)
        defer {
            first.close()
            second.close()
        }
        let client = try TCPStream.connectFromReservedPort(to: first.localAddress)
        let accepted = try first.accept()
        let port = accepted.peer.port
        #expect(TCPStream.reservedSourcePorts.contains(port))
        // This side closes first, so this side keeps the TIME_WAIT.
        client.close()
        #expect(try accepted.receive(maxCount: 16, timeoutMilliseconds: 5_000).isEmpty)
        accepted.close()
        Pause.sleep(milliseconds: 50)
        #expect(throws: TCPStream.Error.bind(IPAddress.anyIPv4, .addressInUse)) {
            try TCPStream.connect(to: second.localAddress, sourcePort: port)
        }
        let again = try TCPStream.connect(to: second.localAddress, sourcePort: port, reuseAddress: true)
        let peer = try second.accept()
        #expect(peer.peer.port == port)
        again.close()
        peer.close()
    }

    /// A stream cut short (the agent's capture failed midway, so the last chunk never came) is reported as
    /// truncated, and leaves no file that looks complete.
    @Test func truncatedStreamIsReportedAndLeavesNoFile() throws {
        let layer = try sampleLayer()
        let output = try makeTemporaryDirectory("multi-trunc")
        defer { removeTree(output) }
        let cut = CuttingProducer(layer: layer.bytes, cutAt: layer.bytes.count / 2)
        try withAgents([cut]) { servers in
            let node = "\(servers[0].localAddress)"
            let job = MultiNodePullJob(directory: output)
            let outcomes = try MultiNodeRun(nodes: [node], parallel: 1).run { node, progress in
                try job.run(node, progress: progress)
            }
            #expect(outcomes[0].failure?.kind == "truncated", "\(outcomes[0])")
            #expect(outcomes[0].failure?.message.contains(node) == true)
            #expect(directoryNames(output) == [])
        }
    }

    /// `save --image BASE --to DIR/{node}`: three nodes from one base, one of them dead.
    @Test func savesEachNodeIntoItsOwnImage() throws {
        let fixture = try UpperFixture()
        defer { fixture.remove() }
        let deadPort = try DeadPort()
        let dead = deadPort.endpoint
        let before = try describeTree(fixture.image)
        try withAgents(Array(repeating: fixture.producer, count: 2)) { servers in
            let nodes = servers.map { "\($0.localAddress)" } + ["\(dead)"]
            let job = try MultiNodeSaveJob(
                image: fixture.image, targetTemplate: fixture.base + "/saved-{node}", keepLayerTemplate: nil,
                pull: MultiNodePullJob(directory: "."))
            let outcomes = try MultiNodeRun(nodes: nodes, parallel: 2).run { node, progress in
                try job.run(node, progress: progress)
            }
            #expect(outcomes[0].succeeded && outcomes[1].succeeded)
            #expect(outcomes[2].failure?.kind == "refused")
            let upper = try describeTree(fixture.upper)
            for node in nodes.prefix(2) {
                let saved = try describeTree(fixture.base + "/saved-\(node)")
                #expect(saved["a.txt"] == upper["a.txt"])
                #expect(saved["b.txt"] == nil)
                #expect(saved["d/z"] == upper["d/z"])
                #expect(saved["keep/k"] == before["keep/k"])
            }
            #expect(!PathOperations.exists(fixture.base + "/saved-\(dead)"))
            #expect(directoryNames(fixture.base).filter { $0.hasPrefix(".") } == [])
        }
        #expect(try describeTree(fixture.image) == before)
    }
}
