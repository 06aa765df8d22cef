import Foundation
import NodeSys
import Testing

@testable import NodeAgent
@testable import NodeSaveClient

#if canImport(Glibc)
    import Glibc
#endif

@Suite(.serialized) struct AgentServerTests {
    @Test func healthAnswersWithVersionUptimeAndUpperDirectory() throws {
        try withAgent { server, logs in
            let client = AgentClient(endpoint: server.localAddress)
            let (head, body) = try client.getSmall("/v1/health")
            #expect(head.headers["Content-Type"] == "application/json")
            struct Health: Decodable {
                var version: String; var uptimeSeconds: Double; var upperDirectory: String; var capturesInProgress: Int
            }
            let health = try JSONDecoder().decode(Health.self, from: Data(body))
            #expect(health.version == "test")
            #expect(health.upperDirectory == "/test/upper")
            #expect(health.uptimeSeconds >= 0 && health.uptimeSeconds < 60)
            #expect(health.capturesInProgress == 0)
        }
    }

    @Test func summaryCarriesTotalsInHeaders() throws {
        try withAgent(producer: PatternProducer(layerSize: 12345)) { server, _ in
            let client = AgentClient(endpoint: server.localAddress)
            let (head, body) = try client.getSmall("/v1/summary?paths=1")
            #expect(head.headers[AgentHeaders.entryCount] == "3")
            #expect(head.headers[AgentHeaders.contentBytes] == "12345")
            #expect(String(decoding: body, as: UTF8.self).contains("paths"))
        }
    }

    @Test func layerStreamsChunkedWithReportTrailer() throws {
        try withAgent(producer: PatternProducer(layerSize: 1_000_003)) { server, logs in
            var response = try AgentClient(endpoint: server.localAddress).get("/v1/layer?compress=gzip")
            defer { response.close() }
            #expect(response.head.status == 200)
            #expect(response.head.headers["Content-Type"] == "application/vnd.oci.image.layer.v1.tar+gzip")
            #expect(response.head.headers["Transfer-Encoding"] == "chunked")
            var index = 0
            var mismatches = 0
            try response.streamBody { data in
                for byte in data {
                    if byte != PatternProducer.byte(at: index) { mismatches += 1 }
                    index += 1
                }
            }
            #expect(index == 1_000_003)
            #expect(mismatches == 0)
            let report = try #require(response.trailers[AgentHeaders.report])
            #expect(Data(base64Encoded: report).map { String(decoding: $0, as: UTF8.self) } == #"{"bytes":1000003}"#)
            #expect(eventually { logs.contains("-> 200, 1000003 bytes") })
        }
    }

    @Test func captureRunsAtLowPriority() throws {
        let producer = PatternProducer(layerSize: 10)
        try withAgent(producer: producer) { server, _ in
            var response = try AgentClient(endpoint: server.localAddress).get("/v1/layer")
            defer { response.close() }
            try response.streamBody { _ in }
            #expect(producer.niceDuringCapture.load(ordering: .relaxed) == 19)
            #expect(producer.ioClassDuringCapture.load(ordering: .relaxed) == 3)
        }
        // The test thread itself was not lowered.
        #expect(ProcessControls.currentThreadNice() < 19)
    }

    static let badRequests: [(String, String)] = [
        ("GET /v1/health HTTP/1.1\r\n\r\n", "400 Bad Request"),
        ("GET /v1/health HTTP/1.1\nHost: x\n\n", "400 Bad Request"),
        ("POST /v1/health HTTP/1.1\r\nHost: x\r\n\r\n", "405 Method Not Allowed"),
        ("GET /v2/anything HTTP/1.1\r\nHost: x\r\n\r\n", "404 Not Found"),
        ("GET /v1/layer?compress=brotli HTTP/1.1\r\nHost: x\r\n\r\n", "400 Bad Request"),
        ("GET /v1/layer?compres=zstd HTTP/1.1\r\nHost: x\r\n\r\n", "400 Bad Request"),
        ("GET /v1/summary?paths=yes HTTP/1.1\r\nHost: x\r\n\r\n", "400 Bad Request"),
        ("GET /v1/health HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", "400 Bad Request"),
    ]

    @Test(arguments: badRequests)
    func oddRequestsGetErrorStatus(request: String, statusLine: String) throws {
        try withAgent { server, _ in
            let response = try rawExchange(server.localAddress, request)
            #expect(response.hasPrefix("HTTP/1.1 \(statusLine)\r\n"), "\(response)")
            #expect(response.contains("\"error\""))
        }
    }

    @Test func clientOutsideTheAllowlistGets403AndALogLine() throws {
        try withAgent(allow: ["127.0.0.1/32"]) { server, logs in
            let other = try #require(IPAddress("127.0.0.2"))
            let client = AgentClient(endpoint: server.localAddress, source: other)
            #expect(throws: (any Error).self) { try client.getSmall("/v1/health") }
            let raw = try rawExchange(server.localAddress, "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n", from: other)
            #expect(raw.hasPrefix("HTTP/1.1 403 Forbidden\r\n"))
            #expect(!raw.contains("allowlist"))  // the reason stays in the log
            #expect(
                eventually { logs.contains("denied 127.0.0.2:") && logs.contains("127.0.0.2 is not in the allowlist") })
            // Even a malformed request from outside gets 403, not a parser diagnosis.
            let malformed = try rawExchange(server.localAddress, "BAD\r\n\r\n", from: other)
            #expect(malformed.hasPrefix("HTTP/1.1 403 Forbidden\r\n"))
            // The allowed address still works.
            _ = try AgentClient(endpoint: server.localAddress).getSmall("/v1/health")
        }
    }

    @Test(arguments: [
        (nil as String?, 403, "no bearer token"),
        ("wrong-token", 403, "wrong bearer token"),
        ("right-token-123", 200, ""),
    ])
    func tokenIsRequiredWhenConfigured(presented: String?, status: Int, logged: String) throws {
        try withAgent(token: "right-token-123") { server, logs in
            let client = AgentClient(endpoint: server.localAddress, token: presented.flatMap(BearerToken.init))
            var response = try client.get("/v1/health")
            defer { response.close() }
            _ = try response.readAll(limit: 4096)
            #expect(response.head.status == status)
            if !logged.isEmpty { #expect(eventually { logs.contains(logged) }) }
        }
    }

    @Test func secondConcurrentCaptureFromTheSameClientGets429() throws {
        // 40 pieces of 64 KiB with 50 ms between them: the first stream lasts about 2 s.
        let producer = PatternProducer(layerSize: 40 * 65536, pauseMilliseconds: 50)
        try withAgent(producer: producer, allow: ["127.0.0.0/8"]) { server, _ in
            let client = AgentClient(endpoint: server.localAddress)
            var first = try client.get("/v1/layer")
            defer { first.close() }
            #expect(first.head.status == 200)
            #expect(eventually { server.activeCaptures == 1 })

            var second = try client.get("/v1/layer")
            let body = try second.readAll(limit: 4096)
            second.close()
            #expect(second.head.status == 429)
            #expect(String(decoding: body, as: UTF8.self).contains("a layer capture for 127.0.0.1 is already running"))
            // A summary may run beside the layer: `nodeinit pull` asks for both at once.
            _ = try client.getSmall("/v1/summary")

            // Another client address is not blocked by the first one's capture.
            let otherClient = AgentClient(endpoint: server.localAddress, source: IPAddress("127.0.0.2"))
            _ = try otherClient.getSmall("/v1/summary")

            // Health is not a capture.
            _ = try client.getSmall("/v1/health")
            var total = 0
            try first.streamBody { total += $0.count }
            #expect(total == 40 * 65536)
            // Once the first stream has ended, the same client may capture again at once.
            _ = try client.getSmall("/v1/summary")
        }
    }

    @Test func secondConcurrentSummaryFromTheSameClientGets429() throws {
        let producer = PatternProducer(layerSize: 65536, summaryMilliseconds: 1500)
        try withAgent(producer: producer, allow: ["127.0.0.0/8"]) { server, _ in
            let client = AgentClient(endpoint: server.localAddress)
            let first = try ThreadedValue { try client.getSmall("/v1/summary").body }
            #expect(eventually { server.activeCaptures == 1 })
            var second = try client.get("/v1/summary")
            let body = try second.readAll(limit: 4096)
            second.close()
            #expect(second.head.status == 429)
            #expect(
                String(decoding: body, as: UTF8.self).contains("a summary capture for 127.0.0.1 is already running"))
            // The layer slot is free meanwhile.
            var layer = try client.get("/v1/layer")
            defer { layer.close() }
            #expect(layer.head.status == 200)
            var total = 0
            try layer.streamBody { total += $0.count }
            #expect(total == 65536)
            #expect(try first.wait().get() == Array(#"{"entries":3}"#.utf8))
            #expect(eventually { server.activeCaptures == 0 })
        }
    }

    @Test func clientDisconnectingMidLayerLeavesTheAgentHealthy() throws {
        let producer = PatternProducer(layerSize: 512 << 20, pauseMilliseconds: 1)
        try withAgent(producer: producer) { server, logs in
            let connection = try TCPStream.connect(to: server.localAddress)
            try connection.send("GET /v1/layer HTTP/1.1\r\nHost: x\r\n\r\n")
            var received = 0
            while received < 300_000 {
                let chunk = try connection.receive(maxCount: 65536)
                if chunk.isEmpty { break }
                received += chunk.count
            }
            connection.abort()
            // The capture notices (EPIPE on its pipe), stops, and frees the slot.
            #expect(eventually { producer.finishedWithError.load(ordering: .relaxed) == 1 })
            #expect(eventually { server.activeCaptures == 0 })
            #expect(eventually { logs.contains("stream ended after") })
            #expect(producer.writes.load(ordering: .relaxed) < 8192)
            // Still healthy, and a new capture works.
            _ = try AgentClient(endpoint: server.localAddress).getSmall("/v1/health")
            _ = try AgentClient(endpoint: server.localAddress).getSmall("/v1/summary")
        }
    }

    @Test func failedCaptureEndsWithoutTheLastChunk() throws {
        let producer = PatternProducer(layerSize: 1 << 20, failAfter: 200_000)
        try withAgent(producer: producer) { server, logs in
            var response = try AgentClient(endpoint: server.localAddress).get("/v1/layer")
            defer { response.close() }
            #expect(throws: (any Error).self) { try response.streamBody { _ in } }
            #expect(eventually { logs.contains("capture failed after") && logs.contains("stopped on purpose") })
        }
    }

    /// With no listen address the agent takes IPv4 and IPv6 on one socket; an IPv4 client shows up
    /// as ::ffff:127.0.0.1 there and must still match an IPv4 allowlist entry.
    @Test func dualStackListenerMatchesIPv4ClientsAgainstIPv4Ranges() throws {
        try withAgent(allow: ["127.0.0.1", "::1"], configure: { $0.listenAddress = nil }) { server, logs in
            let port = server.localAddress.port
            #expect(server.localAddress.address.isIPv6)
            let v4 = SocketAddress(.v4(IPv4Address(127, 0, 0, 1)), port: port)
            _ = try AgentClient(endpoint: v4).getSmall("/v1/health")
            #expect(eventually { logs.contains("127.0.0.1:") && logs.contains("-> 200") })
            #expect(!logs.contains("::ffff"))
            if let v6 = IPAddress("::1"), (try? TCPStream.connect(to: SocketAddress(v6, port: port)))?.close() != nil {
                _ = try AgentClient(endpoint: SocketAddress(v6, port: port)).getSmall("/v1/health")
            }
            let outsider = AgentClient(endpoint: v4, source: IPAddress("127.0.0.2"))
            var response = try outsider.get("/v1/health")
            defer { response.close() }
            #expect(response.head.status == 403)
        }
    }

    @Test func slowClientSendingNothingTimesOut() throws {
        try withAgent(configure: { $0.requestTimeoutMilliseconds = 300 }) { server, _ in
            let connection = try TCPStream.connect(to: server.localAddress)
            defer { connection.close() }
            try connection.send("GET /v1/health HTTP/1.1\r\n")
            let reply = try connection.receive(maxCount: 4096, timeoutMilliseconds: 5000)
            #expect(String(decoding: reply, as: UTF8.self).hasPrefix("HTTP/1.1 408 "))
        }
    }
}

@Suite struct TokenFileTests {
    @Test func acceptsRootOwnedPrivateFile() throws {
        let directory = try makeTemporaryDirectory("token")
        defer { removeTree(directory) }
        try writeFile("\(directory)/token", "abc-123_xyz\n", mode: 0o600)
        let token = try TokenFile.load("\(directory)/token")
        #expect(token.authorizationValue == "Bearer abc-123_xyz")
        try writeFile("\(directory)/strict", "abc\n", mode: 0o400)
        _ = try TokenFile.load("\(directory)/strict")
    }

    @Test(arguments: [0o640, 0o604, 0o644, 0o660])
    func refusesReadableByOthers(mode: Int) throws {
        let directory = try makeTemporaryDirectory("token")
        defer { removeTree(directory) }
        try writeFile("\(directory)/token", "abc\n", mode: mode_t(mode))
        #expect(throws: TokenFile.Error.tooPermissive(path: "\(directory)/token", mode: UInt32(mode))) {
            try TokenFile.load("\(directory)/token")
        }
    }

    @Test func refusesFileNotOwnedByRootEmptyOrOdd() throws {
        let directory = try makeTemporaryDirectory("token")
        defer { removeTree(directory) }
        try writeFile("\(directory)/foreign", "abc\n", mode: 0o600)
        #expect(chown("\(directory)/foreign", 1000, 1000) == 0)
        #expect(throws: TokenFile.Error.notOwnedByRoot(path: "\(directory)/foreign", uid: 1000)) {
            try TokenFile.load("\(directory)/foreign")
        }
        try writeFile("\(directory)/empty", "\n", mode: 0o600)
        #expect(throws: TokenFile.Error.empty(path: "\(directory)/empty")) { try TokenFile.load("\(directory)/empty") }
        try writeFile("\(directory)/spaces", "two words\n", mode: 0o600)
        #expect(throws: TokenFile.Error.invalid(path: "\(directory)/spaces")) {
            try TokenFile.load("\(directory)/spaces")
        }
        #expect(throws: (any Error).self) { try TokenFile.load("\(directory)/missing") }
        #expect(throws: TokenFile.Error.notRegularFile(path: directory)) { try TokenFile.load(directory) }
    }
}

@Suite(.serialized) struct AgentLimitsTests {
    @Test func connectionsPastTheCapAreClosedAtOnce() throws {
        try withAgent(configure: {
            $0.maxConnections = 2; $0.requestTimeoutMilliseconds = 5000
        }) { server, logs in
            let idle = try (0..<2).map { _ in try TCPStream.connect(to: server.localAddress) }
            #expect(eventually { server.openConnections.load(ordering: .relaxed) == 2 })
            let extra = try TCPStream.connect(to: server.localAddress)
            defer { extra.close() }
            let started = ContinuousClock.now
            #expect(try extra.receive(maxCount: 100, timeoutMilliseconds: 3000).isEmpty)
            #expect(ContinuousClock.now - started < .seconds(2))
            #expect(eventually { logs.contains("connections already open") })
            for connection in idle { connection.close() }
            #expect(eventually { server.openConnections.load(ordering: .relaxed) == 0 })
            _ = try AgentClient(endpoint: server.localAddress).getSmall("/v1/health")
        }
    }
}

/// The built `nodeinit` next to the test bundle (swift build --build-tests builds both).
let builtNodeinit: String = {
    var path = #filePath
    for _ in 0..<3 { path = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)]) }
    return path + "/.build/debug/nodeinit"
}()

@Suite(.enabled(if: access(builtNodeinit, X_OK) == 0, "needs the nodeinit executable built"))
struct AgentDaemonTests {
    /// What the init does: `nodeinit agent` started detached (own session, output to a log file);
    /// it answers health, logs there, and stops on SIGTERM.
    @Test func startsDetachedInItsOwnSessionAndLogsToTheFile() throws {
        let directory = try makeTemporaryDirectory("daemon")
        defer { removeTree(directory) }
        try FileManager.default.createDirectory(atPath: directory + "/upper", withIntermediateDirectories: true)
        try writeFile(directory + "/token", "daemon-token\n", mode: 0o600)
        let port = try unusedLoopbackPort()
        var arguments = AgentLaunch.arguments(
            port: port, allow: ["127.0.0.1"], tokenFile: directory + "/token", upper: directory + "/upper"
        )
        arguments += ["--listen", "127.0.0.1"]
        #expect(
            arguments.starts(with: [
                "nodeinit", "agent", "--root-fd", "3", "--ready-fd", "4", "--port", String(port), "--allow",
                "127.0.0.1", "--token-file",
            ]))
        let (pid, ready) = try AgentLaunch.start(
            binary: builtNodeinit, arguments: arguments, logPath: directory + "/agent.log", newRoot: "/")
        defer {
            kill(pid, SIGTERM)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        #expect(ready)
        #expect(getsid(pid) == pid)
        let endpoint = SocketAddress(.v4(IPv4Address(127, 0, 0, 1)), port: UInt16(port))
        let client = AgentClient(endpoint: endpoint, token: BearerToken("daemon-token"))
        #expect(eventually { (try? client.getSmall("/v1/health")) != nil })
        let log = String(decoding: try readFile(directory + "/agent.log"), as: UTF8.self)
        #expect(log.contains("agent listening on 127.0.0.1:\(port)"))
        #expect(log.contains("token required"))
    }

    /// The agent is inside the root it was handed by the time the start returns: its C constructor chroots before
    /// the Swift runtime starts, so an image init that pivots its root (walt-init) finds it there.
    @Test func isInsideTheHandedRootWhenTheStartReturns() throws {
        let directory = try makeTemporaryDirectory("handed-root")
        defer { removeTree(directory) }
        try FileManager.default.createDirectory(atPath: directory + "/root", withIntermediateDirectories: true)
        let port = try unusedLoopbackPort()
        let arguments = AgentLaunch.arguments(port: port, allow: ["127.0.0.1"], tokenFile: nil, upper: "/upper")
        let (pid, ready) = try AgentLaunch.start(
            binary: builtNodeinit, arguments: arguments, logPath: directory + "/agent.log", newRoot: directory + "/root"
        )
        defer {
            kill(pid, SIGTERM)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        #expect(ready)
        var target = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/\(pid)/root", &target, target.count - 1)
        #expect(length > 0)
        #expect(
            String(decoding: target.prefix(max(length, 0)).map { UInt8(bitPattern: $0) }, as: UTF8.self) == directory
                + "/root")
    }

    @Test func refusesToStartWithATokenFileOthersCanRead() throws {
        let directory = try makeTemporaryDirectory("daemon")
        defer { removeTree(directory) }
        try writeFile(directory + "/token", "daemon-token\n", mode: 0o644)
        let (pid, _) = try AgentLaunch.start(
            binary: builtNodeinit,
            arguments: [
                "nodeinit", "agent", "--port", "20999", "--allow", "127.0.0.1", "--token-file", directory + "/token",
            ],
            logPath: directory + "/agent.log", newRoot: "/")
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        #expect(status != 0)
        let log = String(decoding: try readFile(directory + "/agent.log"), as: UTF8.self)
        #expect(log.contains("must be 0600 or stricter"), "\(log)")
    }
}

@Suite(
    .enabled(
        if: access(builtNodeinit, X_OK) == 0 && getuid() == 0, "needs root (mount namespace) and the built nodeinit"))
struct AgentAcrossSwitchRootTests {
    /// The lifetime the README describes: the agent chroots into the new root before switch_root;
    /// once the init moves /run into the new root and the new root to its final place, the agent
    /// finds the upper directory at its usual path. Done in a private mount namespace with
    /// `mount --move`, as switch_root does.
    @Test func agentStartedWithRootSeesTheUpperAfterTheMoves() throws {
        let port = try unusedLoopbackPort()
        let script = """
            set -eu
            B=$1; P=$2; T=/tmp/agent-switchroot-$$
            mkdir -p $T/sysroot $T/run $T/final
            mount -t tmpfs agent-sysroot $T/sysroot
            mkdir -p $T/sysroot/run $T/sysroot/etc
            mount -t tmpfs agent-run $T/run
            mkdir -p $T/run/nodeinit/overlay/upper/etc
            echo changed > $T/run/nodeinit/overlay/upper/etc/motd
            "$B" agent --root $T/sysroot --port $P --listen 127.0.0.1 --allow 127.0.0.1 2>$T/agent.err &
            AGENT=$!
            trap 'set +e; kill $AGENT 2>/dev/null; wait $AGENT 2>/dev/null; sed "s/^/agent: /" $T/agent.err; umount -R $T/final $T/run $T/sysroot 2>/dev/null; rm -rf $T' EXIT
            # From a reserved source port, as `nodeinit pull` run by root does: without a token the agent refuses others.
            get() { python3 -c 'import sys, random, http.client
            error = None
            for attempt in range(20):
                try:
                    c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[2]), timeout=10, source_address=("127.0.0.1", random.randint(600, 1023)))
                    c.request("GET", sys.argv[1]); r = c.getresponse(); body = r.read().decode()
                    print(r.status, body.replace(" ", "").replace("\\n", "") if r.status == 200 else ""); break
                except OSError as e:
                    error = e
            else:
                print("down", error)' "$1" "$P"; }
            for i in $(seq 50); do case "$(get /v1/health)" in 200*) break;; esac; sleep 0.1; done
            echo "before $(get /v1/summary)"
            mount --move $T/run $T/sysroot/run
            mount --move $T/sysroot $T/final
            echo "after $(get /v1/summary)"
            kill $AGENT; wait $AGENT || true
            """
        let output = try runTool([
            "unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", builtNodeinit, String(port),
        ])
        #expect(output.contains("before 500"), "\(output)")
        #expect(output.contains("after 200 {"), "\(output)")
        #expect(output.contains(#""regularFiles":{"bytes":8,"count":1}"#), "\(output)")
    }
}
