import NodeSys
import TestSupport
import Testing

@testable import NodeAgent
@testable import NodeSaveClient

@Suite struct ChunkedDecoderTests {
    @Test(arguments: [1, 2, 7, 64, 100_000])
    func roundTripsInAnySplit(maxPiece: Int) throws {
        var random = SplitMix64(seed: UInt64(maxPiece))
        let payload = (0..<50_000).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        var wire: [UInt8] = []
        var offset = 0
        while offset < payload.count {
            let size = min(payload.count - offset, 1 + Int(random.next() % 5000))
            wire +=
                ChunkedEncoding.chunkPrefix(size: size) + payload[offset..<(offset + size)]
                + ChunkedEncoding.chunkSuffix
            offset += size
        }
        wire += ChunkedEncoding.lastChunk(trailers: HTTPHeaders([("Nodeinit-Report", "eyJ4IjoxfQ==")]))
        var decoder = ChunkedDecoder()
        var output: [UInt8] = []
        var index = 0
        while index < wire.count {
            let piece = min(wire.count - index, 1 + Int(random.next() % UInt64(maxPiece)))
            try wire[index..<(index + piece)].withUnsafeBytes { raw in
                try decoder.feed(raw) { output.append(contentsOf: $0) }
            }
            index += piece
        }
        #expect(decoder.isComplete)
        #expect(output == payload)
        #expect(decoder.trailers["nodeinit-report"] == "eyJ4IjoxfQ==")
    }

    @Test(arguments: ["zz\r\n", "5\r\nabcdeX", "\r\n", "12345678901234567\r\n", "5\nabcde\r\n"])
    func rejectsBrokenFraming(wire: String) {
        var decoder = ChunkedDecoder()
        #expect(throws: (any Error).self) {
            try Array(wire.utf8).withUnsafeBytes { raw in try decoder.feed(raw) { _ in } }
        }
    }

    /// Random and mutated input: the decoder returns or throws, never traps, never emits more
    /// body bytes than it was fed.
    @Test func fuzzNeverTraps() {
        var random = SplitMix64(seed: 0xc4a_6e6b)
        let valid = Array("5\r\nhello\r\n10;ext=1\r\n0123456789abcdef\r\n0\r\nX-T: v\r\n\r\n".utf8)
        for round in 0..<20_000 {
            var bytes =
                round % 4 == 0
                ? (0..<Int(random.next() % 64)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                : valid
            if round % 4 != 0 {
                for _ in 0..<(1 + random.next() % 3) {
                    let position = Int(random.next() % UInt64(bytes.count))
                    let alphabet = Array("0123456789abcdefxX;\r\n :".utf8)
                    bytes[position] = alphabet[Int(random.next() % UInt64(alphabet.count))]
                }
            }
            var decoder = ChunkedDecoder()
            var emitted = 0
            _ = try? bytes.withUnsafeBytes { raw in try decoder.feed(raw) { emitted += $0.count } }
            #expect(emitted <= bytes.count)
        }
    }

    @Test func incompleteBodyIsNotComplete() throws {
        var decoder = ChunkedDecoder()
        try Array("5\r\nabcde\r\n".utf8).withUnsafeBytes { try decoder.feed($0) { _ in } }
        #expect(!decoder.isComplete)
    }
}

@Suite struct AccessPolicyTests {
    @Test func tokenDecisions() throws {
        let policy = AccessPolicy(allowlist: [try #require(IPNetwork("127.0.0.1"))], token: BearerToken("s3cret-token"))
        let local = try #require(IPAddress("127.0.0.1"))
        let other = try #require(IPAddress("127.0.0.2"))
        #expect(policy.decide(peer: local, authorization: ["Bearer s3cret-token"]) == .allowed)
        #expect(policy.decide(peer: local, authorization: ["bearer s3cret-token"]) == .allowed)
        #expect(policy.decide(peer: local, authorization: []) == .denied("no bearer token"))
        #expect(policy.decide(peer: local, authorization: ["Bearer s3cret-tokeN"]) == .denied("wrong bearer token"))
        #expect(
            policy.decide(peer: local, authorization: ["Bearer s3cret-token-and-more"]) == .denied("wrong bearer token")
        )
        #expect(policy.decide(peer: local, authorization: ["Bearer s3cret"]) == .denied("wrong bearer token"))
        #expect(
            policy.decide(peer: local, authorization: ["Basic czNjcmV0"])
                == .denied("authorization is not a bearer token"))
        #expect(
            policy.decide(peer: other, authorization: ["Bearer s3cret-token"])
                == .denied("address 127.0.0.2 is not in the allowlist"))
    }
}

@Suite struct LogThrottleTests {
    @Test func letsABurstThroughThenCountsWhatItDrops() {
        let throttle = LogThrottle(burst: 3, window: .seconds(10))
        let start = ContinuousClock.now
        #expect((0..<3).map { throttle.admit("line \($0)", now: start) } == ["line 0", "line 1", "line 2"])
        #expect(throttle.admit("line 3", now: start + .seconds(1)) == nil)
        #expect(throttle.admit("line 4", now: start + .seconds(9)) == nil)
        #expect(
            throttle.admit("line 5", now: start + .seconds(10)) == "line 5 (2 similar lines suppressed before this one)"
        )
        #expect(throttle.admit("line 6", now: start + .seconds(10)) == "line 6")
    }
}
