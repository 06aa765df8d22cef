import NodeSys
import Testing
@testable import NodeAgent

@Suite struct ChunkedDecoderTests {
    @Test(arguments: [1, 2, 7, 64, 100_000])
    func roundTripsInAnySplit(maxPiece: Int) throws {
        var random = SplitMix64(seed: UInt64(maxPiece))
        let payload = (0..<50_000).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        var wire: [UInt8] = []
        var offset = 0
        while offset < payload.count {
            let size = min(payload.count - offset, 1 + Int(random.next() % 5000))
            wire += ChunkedEncoding.chunkPrefix(size: size) + payload[offset..<(offset + size)] + ChunkedEncoding.chunkSuffix
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
            var bytes = round % 4 == 0
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
    static let ranges: [(String, String, Bool)] = [
        ("192.0.2.0/24", "192.0.2.77", true),
        ("192.0.2.0/24", "192.0.3.1", false),
        ("192.0.2.10", "192.0.2.10", true),
        ("192.0.2.10", "192.0.2.11", false),
        ("10.0.0.0/8", "::ffff:10.1.2.3", true),
        ("::ffff:10.0.0.0/104", "10.200.0.1", true),
        ("0.0.0.0/0", "203.0.113.5", true),
        ("0.0.0.0/0", "2001:db8::1", false),
        ("2001:db8::/32", "2001:db8:ffff::1", true),
        ("2001:db8::/32", "2001:db9::1", false),
        ("192.0.2.0/23", "192.0.3.255", true),
        ("127.0.0.1/32", "127.0.0.2", false),
    ]

    @Test(arguments: ranges)
    func rangeMembership(range: String, address: String, expected: Bool) throws {
        let parsed = try AddressRange(range)
        let ip = try #require(IPAddress(address))
        #expect(parsed.contains(ip) == expected)
    }

    @Test(arguments: ["", "10.0.0.0/33", "10.0.0/8", "host", "::/129", "10.0.0.0/", "10.0.0.0/+8", "1.2.3.4/8/9"])
    func rejectsBadRanges(text: String) {
        #expect(throws: AddressRange.Error.invalid(text)) { try AddressRange(text) }
    }

    @Test func tokenDecisions() throws {
        let policy = AccessPolicy(allowlist: [try AddressRange("127.0.0.1")], token: BearerToken("s3cret-token"))
        let local = try #require(IPAddress("127.0.0.1"))
        let other = try #require(IPAddress("127.0.0.2"))
        #expect(policy.decide(peer: local, authorization: ["Bearer s3cret-token"]) == .allowed)
        #expect(policy.decide(peer: local, authorization: ["bearer s3cret-token"]) == .allowed)
        #expect(policy.decide(peer: local, authorization: []) == .denied("no bearer token"))
        #expect(policy.decide(peer: local, authorization: ["Bearer s3cret-tokeN"]) == .denied("wrong bearer token"))
        #expect(policy.decide(peer: local, authorization: ["Bearer s3cret-token-and-more"]) == .denied("wrong bearer token"))
        #expect(policy.decide(peer: local, authorization: ["Bearer s3cret"]) == .denied("wrong bearer token"))
        #expect(policy.decide(peer: local, authorization: ["Basic czNjcmV0"]) == .denied("authorization is not a bearer token"))
        #expect(policy.decide(peer: other, authorization: ["Bearer s3cret-token"]) == .denied("address 127.0.0.2 is not in the allowlist"))
    }
}

@Suite struct LogThrottleTests {
    @Test func letsABurstThroughThenCountsWhatItDrops() {
        let throttle = LogThrottle(burst: 3, window: .seconds(10))
        let start = ContinuousClock.now
        #expect((0..<3).map { throttle.admit("line \($0)", now: start) } == ["line 0", "line 1", "line 2"])
        #expect(throttle.admit("line 3", now: start + .seconds(1)) == nil)
        #expect(throttle.admit("line 4", now: start + .seconds(9)) == nil)
        #expect(throttle.admit("line 5", now: start + .seconds(10)) == "line 5 (2 similar lines suppressed before this one)")
        #expect(throttle.admit("line 6", now: start + .seconds(10)) == "line 6")
    }
}
