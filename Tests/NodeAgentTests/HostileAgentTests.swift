import Foundation
import NodeSys
import OverlayCapture
import Synchronization
import SystemPackage
import TestSupport
import Testing

@testable import NodeAgent
@testable import NodeSaveClient

#if canImport(Glibc)
    import Glibc
#endif

/// Serves fixed layer bytes, whatever compression was asked (the bytes say which one they are).
struct FixedLayerProducer: LayerProducer {
    let bytes: [UInt8]
    func summary(includePaths: Bool) throws -> LayerSummary {
        LayerSummary(json: Array("{}".utf8), entryCount: 0, contentBytes: 0)
    }
    func writeLayer(to fd: FileDescriptor, compression: LayerCompressionFormat) throws -> [UInt8] {
        _ = try bytes.withUnsafeBytes { try fd.writeAll($0) }
        return Array("{}".utf8)
    }
}

/// A small tar: `count` files of a few KB each.
func sampleTar(count: Int = 20) throws -> [UInt8] {
    var writer = TarWriter(sink: MemorySink())
    for index in 0..<count {
        let data = Array(String(repeating: "entry \(index) ", count: 300).utf8)
        try writer.append(
            TarEntry(
                path: "f\(index)", kind: .regular, permissions: 0o644, uid: getuid(), gid: getgid(),
                size: Int64(data.count)))
        try data.withUnsafeBytes { try writer.appendData($0) }
    }
    try writer.finish()
    return writer.sink.bytes
}

func compressed(_ bytes: [UInt8], _ compression: LayerCompressionFormat) throws -> [UInt8] {
    let sink = try CompressingSink(compression, downstream: MemorySink())
    try bytes.withUnsafeBytes { try sink.write($0) }
    try sink.finish()
    return sink.downstream.bytes
}

@Suite(.serialized) struct PartialLayerPullTests {
    /// The agent's stream itself is complete (last chunk sent); the tar inside is not.
    @Test(arguments: [LayerCompressionFormat.none, .gzip, .zstd])
    func pullOfATarWithoutItsEndMarkerLeavesNoFile(compression: LayerCompressionFormat) throws {
        let tar = try sampleTar()
        // Cut right after the last member's data, on a block boundary: no end-of-archive blocks.
        let dataEnd = tar.count - 1024 - tar.prefix(tar.count - 1024).reversed().prefix(while: { $0 == 0 }).count
        let body = Array(tar.prefix((dataEnd + 511) / 512 * 512))
        let layer = compression == .none ? body : try compressed(body, compression)
        let directory = try makeTemporaryDirectory("partial-pull")
        defer { removeTree(directory) }
        try withAgent(producer: FixedLayerProducer(bytes: layer)) { server, _ in
            let pull = LayerPull(client: AgentClient(endpoint: server.localAddress), compression: compression)
            var message = "no error"
            do { _ = try pull.run(to: directory + "/node.tar") } catch { message = "\(error)" }
            #expect(message.contains("without its end-of-archive marker"), "\(message)")
            #expect(directoryNames(directory) == [])
        }
    }

    /// A plain layer with large members goes to the file by splice and is read back only where it is parsed:
    /// the file holds the stream byte for byte, every entry is counted, and a tar cut inside a large member's data
    /// (the HTTP stream itself complete) fails and leaves no file.
    @Test func plainPullWithLargeMembersSplicesAndSkips() throws {
        var writer = TarWriter(sink: MemorySink())
        var random = SplitMix64(seed: 0x1a7e)
        let sizes: [Int] = [3 << 20, 100, 70_000, (1 << 20) + 1, 0, 5 << 20]
        for (index, size) in sizes.enumerated() {
            let data = (0..<size).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            try writer.append(
                TarEntry(
                    path: "big\(index)", kind: .regular, permissions: 0o644, uid: getuid(), gid: getgid(),
                    size: Int64(data.count)))
            try data.withUnsafeBytes { try writer.appendData($0) }
        }
        try writer.finish()
        let tar = writer.sink.bytes
        let directory = try makeTemporaryDirectory("splice-pull")
        defer { removeTree(directory) }
        try withAgent(producer: FixedLayerProducer(bytes: tar)) { server, _ in
            let pull = LayerPull(client: AgentClient(endpoint: server.localAddress), compression: .none)
            let result = try pull.run(to: directory + "/node.tar")
            #expect(result.progress.entries == 6)
            #expect(result.progress.streamBytes == UInt64(tar.count))
            let contentBytes: UInt64 = (3 << 20) + 100 + 70_000 + (1 << 20) + 1 + (5 << 20)
            #expect(result.progress.contentBytes == contentBytes)
            #expect(try readFile(directory + "/node.tar") == tar)
        }
        // Cut inside the last member's data.
        let cut = Array(tar.prefix(tar.count - (3 << 20)))
        try withAgent(producer: FixedLayerProducer(bytes: cut)) { server, _ in
            let pull = LayerPull(client: AgentClient(endpoint: server.localAddress), compression: .none)
            var message = "no error"
            do { _ = try pull.run(to: directory + "/cut.tar") } catch { message = "\(error)" }
            #expect(message.contains("tar stream ends early"), "\(message)")
            #expect(directoryNames(directory) == ["node.tar"])
        }
    }

    @Test func pullReadsEveryGzipMember() throws {
        let tar = try sampleTar()
        let layer = try compressed(Array(tar.prefix(3000)), .gzip) + compressed(Array(tar.dropFirst(3000)), .gzip)
        let directory = try makeTemporaryDirectory("multi-pull")
        defer { removeTree(directory) }
        try withAgent(producer: FixedLayerProducer(bytes: layer)) { server, _ in
            let pull = LayerPull(client: AgentClient(endpoint: server.localAddress), compression: .gzip)
            let result = try pull.run(to: directory + "/node.tar.gz")
            #expect(result.progress.entries == 20)
            #expect(try readFile(directory + "/node.tar.gz") == layer)
        }
    }

    @Test func pullOfTrailingGarbageLeavesNoFile() throws {
        let layer = try compressed(try sampleTar(), .zstd) + Array("garbage".utf8)
        let directory = try makeTemporaryDirectory("garbage-pull")
        defer { removeTree(directory) }
        try withAgent(producer: FixedLayerProducer(bytes: layer)) { server, _ in
            let pull = LayerPull(client: AgentClient(endpoint: server.localAddress), compression: .zstd)
            var message = "no error"
            do { _ = try pull.run(to: directory + "/node.tar.zst") } catch { message = "\(error)" }
            #expect(message.contains("trailing garbage at compressed byte"), "\(message)")
            #expect(directoryNames(directory) == [])
        }
    }
}

@Suite struct TokenLengthTests {
    /// The token shortened, as is, and followed by extra bytes: only the exact token matches, whatever
    /// the length difference is modulo 256.
    @Test(arguments: [-1, 0, 1, 255, 256, 257, 512, 4096])
    func onlyTheExactTokenMatches(extra: Int) throws {
        let secret = "s3cret-token"
        let token = try #require(BearerToken(secret))
        let presented =
            extra < 0
            ? Array(secret.utf8.dropLast(-extra)) : Array(secret.utf8) + [UInt8](repeating: 0x41, count: extra)
        #expect(token.matches(presented) == (extra == 0))
        let policy = AccessPolicy(allowlist: [try #require(IPNetwork("127.0.0.1"))], token: token)
        let decision = policy.decide(
            peer: try #require(IPAddress("127.0.0.1")),
            authorization: ["Bearer " + String(decoding: presented, as: UTF8.self)])
        #expect(decision == (extra == 0 ? .allowed : .denied("wrong bearer token")))
    }
}

@Suite(.serialized) struct SaveStagingTests {
    /// Symlinks planted under the names the staging copy and the layer used to get (`.<new>.saving-<pid>`,
    /// `.<new>.layer-<pid>.tar`) must not be followed: nothing lands in the directory they point to.
    @Test func plantedSymlinksAtTheOldStagingNamesAreNotFollowed() throws {
        let base = try makeTemporaryDirectory("staging")
        defer { removeTree(base) }
        try FileManager.default.createDirectory(atPath: base + "/image/etc", withIntermediateDirectories: true)
        try writeFile(base + "/image/etc/hostname", "node\n")
        try FileManager.default.createDirectory(atPath: base + "/elsewhere", withIntermediateDirectories: true)
        let pid = getpid()
        try FileManager.default.createSymbolicLink(
            atPath: base + "/.new.saving-\(pid)", withDestinationPath: base + "/elsewhere")
        try FileManager.default.createSymbolicLink(
            atPath: base + "/.new.layer-\(pid).tar", withDestinationPath: base + "/elsewhere/layer")
        var stagingSeen: [String] = []
        try withAgent(producer: FixedLayerProducer(bytes: try sampleTar(count: 3))) { server, _ in
            let save = ImageSave(pull: LayerPull(client: AgentClient(endpoint: server.localAddress)))
            _ = try save.run(image: base + "/image", newImage: base + "/new") { _ in
                stagingSeen = directoryNames(base).filter { $0.hasPrefix(".new.saving-") && $0 != ".new.saving-\(pid)" }
            }
        }
        #expect(directoryNames(base + "/elsewhere") == [])
        #expect(try readFile(base + "/new/etc/hostname") == Array("node\n".utf8))
        #expect(try readFile(base + "/new/f2").count > 0)
        var info = stat()
        #expect(lstat(base + "/new", &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR)
        // The planted links are left alone; the private staging directory had a random name and is gone.
        #expect(directoryNames(base) == [".new.layer-\(pid).tar", ".new.saving-\(pid)", "elsewhere", "image", "new"])
        #expect(stagingSeen.count == 1)
    }

    @Test func stagingDirectoryIsPrivate() throws {
        let base = try makeTemporaryDirectory("staging-mode")
        defer { removeTree(base) }
        let directory = try PathOperations.makeUniqueDirectory(prefix: base + "/.x.saving-")
        var info = stat()
        #expect(lstat(directory, &info) == 0 && info.st_mode & 0o7777 == 0o700)
        #expect(directory.hasPrefix(base + "/.x.saving-") && directory.count == (base + "/.x.saving-").count + 6)
        // The same prefix again: a fresh name, never the existing directory.
        #expect(try PathOperations.makeUniqueDirectory(prefix: base + "/.x.saving-") != directory)
    }
}

@Suite(.serialized) struct OutsiderTests {
    /// 200 idle connections from addresses outside the allowlist (127.0.0.2 ...) must not take the
    /// connections kept for the allowed server: its 10 pulls all succeed while the outsiders stay connected.
    @Test func idleOutsidersNeverStarveTheAllowedClient() throws {
        let directory = try makeTemporaryDirectory("outsiders")
        defer { removeTree(directory) }
        try withAgent(producer: FixedLayerProducer(bytes: try sampleTar(count: 3))) { server, logs in
            var outsiders: [TCPStream] = []
            defer { for connection in outsiders { connection.close() } }
            for index in 0..<200 {
                let source = try #require(IPAddress("127.0.0.\(2 + index % 100)"))
                outsiders.append(try TCPStream.connect(to: server.localAddress, from: source))
            }
            var served = 0
            for index in 0..<10 {
                let pull = LayerPull(client: AgentClient(endpoint: server.localAddress))
                if (try? pull.run(to: directory + "/layer\(index).tar")) != nil { served += 1 }
            }
            #expect(served == 10)
            // The server thread closes a served connection just after the client has read its last byte: on a
            // loaded machine the count may lag, so it gets a few seconds to reach 0.
            var waited = 0
            while server.openConnections.load(ordering: .relaxed) != 0 && waited < 5000 {
                usleep(20_000)
                waited += 20
            }
            #expect(server.openConnections.load(ordering: .relaxed) == 0)
            // Every outsider got its 403 at once, without sending anything (not a 408 after a wait).
            for connection in outsiders.prefix(20) {
                let answer = String(
                    decoding: try connection.receive(maxCount: 4096, timeoutMilliseconds: 2000), as: UTF8.self)
                #expect(answer.hasPrefix("HTTP/1.1 403"), "\(answer)")
            }
            #expect(eventually { logs.contains("at connect: address 127.0.0.2 is not in the allowlist") })
        }
    }

    @Test func silentOutsiderGets403NotATimeout() throws {
        try withAgent { server, _ in
            let connection = try TCPStream.connect(to: server.localAddress, from: try #require(IPAddress("127.0.0.9")))
            defer { connection.close() }
            let started = ContinuousClock.now
            let answer = String(
                decoding: try connection.receive(maxCount: 4096, timeoutMilliseconds: 5000), as: UTF8.self)
            #expect(answer.hasPrefix("HTTP/1.1 403"), "\(answer)")
            #expect(ContinuousClock.now - started < .seconds(1))
        }
    }
}

@Suite(.serialized) struct ReservedPortTests {
    @Test func withoutATokenTheDefaultRequiresAReservedPort() throws {
        #expect(AccessPolicy(allowlist: [], token: nil).requireReservedPort)
        #expect(!AccessPolicy(allowlist: [], token: BearerToken("t0ken")).requireReservedPort)
        let policy = AccessPolicy(allowlist: [try #require(IPNetwork("10.0.0.1"))], token: nil)
        let server = try #require(IPAddress("10.0.0.1"))
        #expect(policy.admit(SocketAddress(server, port: 1023)) == .allowed)
        #expect(
            policy.admit(SocketAddress(server, port: 1024))
                == .denied("source port 1024 is not reserved (below 1024) and no token is configured"))
        #expect(
            policy.admit(SocketAddress(try #require(IPAddress("10.0.0.2")), port: 700))
                == .denied("address 10.0.0.2 is not in the allowlist"))
    }

    /// An unprivileged user on the allowed server connects from an ephemeral port: refused. `pull`, as root,
    /// binds a reserved port and is served. With a token, any port carrying it is served.
    @Test(.enabled(if: geteuid() == 0, "binding a reserved port needs root"))
    func unprivilegedPortsAreRefusedReservedOnesServed() throws {
        let request = "GET /v1/health HTTP/1.1\r\nHost: agent\r\n\r\n"
        try withAgent(requireReservedPort: true) { server, logs in
            let refused = try rawExchange(server.localAddress, request)
            #expect(refused.hasPrefix("HTTP/1.1 403"), "\(refused)")
            #expect(eventually { logs.contains("is not reserved (below 1024)") })
            let health = try AgentClient(endpoint: server.localAddress).getSmall("/v1/health")
            #expect(health.head.status == 200)
            let pulled = try AgentClient(endpoint: server.localAddress).getSmall("/v1/summary")
            #expect(pulled.head.status == 200)
        }
        try withAgent(token: "the-token", requireReservedPort: false) { server, _ in
            let served = try rawExchange(
                server.localAddress, "GET /v1/health HTTP/1.1\r\nHost: agent\r\nAuthorization: Bearer the-token\r\n\r\n"
            )
            #expect(served.hasPrefix("HTTP/1.1 200"), "\(served)")
        }
    }
}

@Suite struct HostileTextFromAgentTests {
    @Test func agentErrorTextReachesTheAdminEscaped() throws {
        let peer = SocketAddress(try #require(IPAddress("10.0.0.5")), port: 7070)
        let error = AgentClient.Error.status(
            from: peer, path: "/v1/layer", status: 500,
            message: "boom\u{1b}[2J\u{1b}]0;pwned\u{7}" + String(repeating: "x", count: 5000))
        let text = error.description
        #expect(!text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f }, "\(text)")
        #expect(text.contains("boom\\x1b[2J"))
        #expect(text.utf8.count < 700)
    }

    /// A FIFO as token file: refused at once (not a regular file) instead of blocking the agent in open(2).
    @Test func fifoTokenFileIsRefusedWithoutHanging() throws {
        let directory = try makeTemporaryDirectory("fifo-token")
        defer { removeTree(directory) }
        let fifo = directory + "/token"
        #expect(mkfifo(fifo, 0o600) == 0)
        let outcome = Mutex<String?>(nil)
        let thread = try NativeThread.start {
            let text: String
            do { _ = try TokenFile.load(fifo); text = "loaded" } catch { text = "\(error)" }
            outcome.withLock { $0 = text }
        }
        let finished = eventually(seconds: 3) { outcome.withLock { $0 } != nil }
        if !finished {
            // Release the blocked open so the test ends; the hang itself is the failure.
            let writer = open(fifo, O_WRONLY | O_NONBLOCK)
            if writer >= 0 { close(writer) }
        }
        thread.join()
        #expect(finished, "TokenFile.load blocked on a FIFO")
        #expect(outcome.withLock { $0 } == "token file \(fifo) is not a regular file")
    }
}
