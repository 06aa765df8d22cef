import NodeSys
import Synchronization
import SystemPackage
import TestSupport
import Testing

@testable import NodeAgent
@testable import NodeSaveClient

/// `HTTPClientResponse.readBody` decodes each receive in the caller's buffer: these feed it real sockets on
/// 127.0.0.1, the response sent in pieces (each after a pause, so each lands in a receive of its own) and read with
/// buffers from 1 byte up, so chunk size lines, CRLFs and trailers fall across receive boundaries.
@Suite(.serialized) struct HTTPClientResponseTests {
    struct Outcome {
        var body: [UInt8] = []
        var trailers = HTTPHeaders()
        var received: UInt64 = 0
        var error: AgentClient.Error?
    }

    /// Serves `pieces` on one connection (pausing `pauseMilliseconds` after each), closes it, and reads the
    /// response with reads of at most `readSize` bytes (varying between 1 and `readSize` when `varyReads`).
    /// With `splice`, the body goes through `spliceBody` into a file (pipe capacity `readSize`) and is read back.
    func exchange(
        _ pieces: [[UInt8]], readSize: Int, varyReads: Bool = false, pauseMilliseconds: Int = 15, splice: Bool = false
    ) throws -> Outcome {
        let listener = try TCPListener.listen(on: IPAddress("127.0.0.1"), port: 0)
        defer { listener.close() }
        let server = try NativeThread.start {
            guard let connection = try? listener.accept() else { return }
            defer { connection.close() }
            for piece in pieces {
                do { try connection.send(piece, timeoutMilliseconds: 10_000) } catch { return }
                if pauseMilliseconds > 0 { Pause.sleep(milliseconds: pauseMilliseconds) }
            }
        }
        defer { server.join() }
        let connection = try TCPStream.connect(to: listener.localAddress, timeoutMilliseconds: 5_000)
        defer { connection.close() }
        var outcome = Outcome()
        var response: HTTPClientResponse
        do {
            response = try HTTPClientResponse.read(from: connection, path: "/v1/layer", timeoutMilliseconds: 10_000)
        } catch {
            outcome.error = error
            return outcome
        }
        if splice {
            try spliceAll(&response, into: &outcome, maxCount: readSize)
            return outcome
        }
        var random = SplitMix64(seed: UInt64(readSize))
        var buffer = [UInt8](repeating: 0xee, count: readSize)
        do {
            while true {
                let size = varyReads ? 1 + Int(random.next() % UInt64(readSize)) : readSize
                let count = try buffer.withUnsafeMutableBytes { raw in
                    try response.readBody(into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<size]))
                }
                #expect(count <= size)
                if count == 0 { break }
                outcome.body += buffer[0..<count]
            }
        } catch let error as AgentClient.Error {
            outcome.error = error
        }
        outcome.trailers = response.trailers
        outcome.received = response.bodyBytesReceived
        return outcome
    }

    func spliceAll(_ response: inout HTTPClientResponse, into outcome: inout Outcome, maxCount: Int) throws {
        let directory = try makeTemporaryDirectory("splice-body")
        defer { removeTree(directory) }
        let path = directory + "/body"
        let file = try FileDescriptor.open(
            path, .readWrite, options: [.create, .truncate], permissions: [.ownerReadWrite])
        defer { try? file.close() }
        let pipe = try FileDescriptor.pipe()
        defer {
            try? pipe.readEnd.close()
            try? pipe.writeEnd.close()
        }
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 3, alignment: 16)
        defer { scratch.deallocate() }
        var total = 0
        do {
            while true {
                let count = try response.spliceBody(
                    to: file, path: path, through: pipe, maxCount: maxCount, scratch: scratch)
                #expect(count <= max(maxCount, scratch.count))
                if count == 0 { break }
                total += count
            }
        } catch let error as AgentClient.Error {
            outcome.error = error
        }
        outcome.body = try readFile(path)
        #expect(outcome.body.count == total)
        outcome.trailers = response.trailers
        outcome.received = response.bodyBytesReceived
    }

    static let chunkedHead = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: Nodeinit-Report\r\n\r\n"

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    static func isTruncated(_ error: AgentClient.Error?, received expected: UInt64) -> Bool {
        if case .truncated(_, let path, let received)? = error { return path == "/v1/layer" && received == expected }
        return false
    }

    /// A size line cut inside its digits, its extension and between CR and LF; data cut before its CRLF; a
    /// trailer field name and the final CRLF cut; the first byte of the body arriving with the head.
    @Test(arguments: [1, 2, 3, 5, 16, 4096])
    func framingSplitAcrossReceives(readSize: Int) throws {
        for splice in [false, true] {
            try framingSplitAcrossReceives(readSize: readSize, splice: splice)
        }
    }

    func framingSplitAcrossReceives(readSize: Int, splice: Bool) throws {
        let data = Self.bytes("0123456789abcdef")
        let pieces: [[UInt8]] = [
            Self.bytes(Self.chunkedHead + "1"), Self.bytes("0;name=va"), Self.bytes("lue\r"),
            Self.bytes("\n") + data[0..<5], data[5...] + Self.bytes("\r"),
            Self.bytes("\n3\r\nxyz\r\n0\r\nNodeinit-Rep"), Self.bytes("ort: e30=\r\n\r"), Self.bytes("\n"),
        ]
        let outcome = try exchange(pieces, readSize: readSize, splice: splice)
        #expect(outcome.error == nil, "\(String(describing: outcome.error))")
        #expect(outcome.body == data + Self.bytes("xyz"), "splice \(splice)")
        #expect(outcome.received == 19)
        #expect(outcome.trailers["nodeinit-report"] == "e30=")
    }

    /// Many chunks of random sizes (1 byte to 300 KiB), sent in random pieces without pauses and read with random
    /// read sizes: the body comes out whole and in order, whatever the kernel coalesces.
    @Test(arguments: [7, 1000, 65536, 1 << 20])
    func randomChunksAndReads(readSize: Int) throws {
        var random = SplitMix64(seed: 0x5eed_0000 &+ UInt64(readSize))
        // Tiny reads on a smaller body: a receive per few bytes.
        let payload = (0..<(readSize < 1000 ? 256 << 10 : 3 << 20)).map { _ in
            UInt8(truncatingIfNeeded: random.next() >> 7)
        }
        var wire = Self.bytes(Self.chunkedHead)
        var offset = 0
        while offset < payload.count {
            let size = min(payload.count - offset, 1 + Int(random.next() % (random.next() % 2 == 0 ? 40 : 300_000)))
            wire += ChunkedEncoding.chunkPrefix(size: size) + payload[offset..<(offset + size)]
            wire += ChunkedEncoding.chunkSuffix
            offset += size
        }
        wire += ChunkedEncoding.lastChunk(trailers: HTTPHeaders([("Nodeinit-Report", "eyJ4IjoxfQ==")]))
        // Bytes after the last chunk are not part of the body.
        wire += Self.bytes("HTTP/1.1 200 OK\r\n")
        var pieces: [[UInt8]] = []
        var index = 0
        while index < wire.count {
            let piece = min(wire.count - index, 1 + Int(random.next() % 200_000))
            pieces.append(Array(wire[index..<(index + piece)]))
            index += piece
        }
        for splice in [false, true] {
            let outcome = try exchange(
                pieces, readSize: readSize, varyReads: true, pauseMilliseconds: 0, splice: splice)
            #expect(outcome.error == nil, "\(String(describing: outcome.error))")
            #expect(outcome.body.count == payload.count)
            #expect(outcome.body == payload, "splice \(splice)")
            #expect(outcome.received == UInt64(payload.count))
            #expect(outcome.trailers["nodeinit-report"] == "eyJ4IjoxfQ==")
        }
    }

    /// The connection closing before the body ends is `truncated`, with what came before it delivered and counted:
    /// inside a chunk's data, inside a size line, after the last chunk but inside the trailers, short of a
    /// Content-Length.
    @Test(arguments: [
        (["10\r\n0123"], "0123"),
        (["5\r\nhel", "lo\r\n1"], "hello"),
        (["5\r\nhello\r\n", "0\r\nNodeinit-Report: e30=\r\n"], "hello"),
        (["5\r\nhello\r"], "hello"),
    ])
    func chunkedBodyCutShortIsTruncated(body: [String], expected: String) throws {
        for (readSize, splice) in [(1, false), (3, false), (65536, false), (1, true), (4096, true)] {
            let pieces = [Self.bytes(Self.chunkedHead)] + body.map(Self.bytes)
            let outcome = try exchange(pieces, readSize: readSize, splice: splice)
            #expect(outcome.body == Self.bytes(expected), "read size \(readSize)")
            #expect(
                Self.isTruncated(outcome.error, received: UInt64(expected.utf8.count)),
                "read size \(readSize): \(String(describing: outcome.error))")
        }
    }

    @Test func contentLengthCutShortIsTruncatedAndUntilCloseIsNot() throws {
        for splice in [false, true] {
            let short = try exchange(
                [Self.bytes("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n123"), Self.bytes("45")], readSize: 2,
                splice: splice)
            #expect(short.body == Self.bytes("12345"))
            #expect(Self.isTruncated(short.error, received: 5), "\(String(describing: short.error))")
        }

        let exact = try exchange(
            [Self.bytes("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n123"), Self.bytes("456789")], readSize: 4)
        #expect(exact.error == nil)
        #expect(exact.body == Self.bytes("123456"))

        let untilClose = try exchange(
            [Self.bytes("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nab"), Self.bytes("cd")], readSize: 3)
        #expect(untilClose.error == nil)
        #expect(untilClose.body == Self.bytes("abcd"))
    }

    /// Broken framing in a later receive is a malformed response, after the body bytes before it.
    @Test(arguments: ["zz\r\n", "5\r\nabcdeX", "5\nabcde\r\n", "5\r\nabcde\r\n12345678901234567\r\n"])
    func brokenFramingIsMalformed(wire: String) throws {
        let outcome = try exchange([Self.bytes(Self.chunkedHead), Self.bytes(wire)], readSize: 3)
        if case .malformedResponse? = outcome.error {
        } else {
            Issue.record("expected a malformed response, got \(String(describing: outcome.error))")
        }
        #expect(outcome.body.count <= 5)
    }
}
