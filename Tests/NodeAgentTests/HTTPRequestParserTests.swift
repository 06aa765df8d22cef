import TestSupport
import Testing

@testable import NodeAgent

@Suite struct HTTPRequestParserTests {
    typealias Head = HTTPRequestHead

    static let valid: [(String, Head)] = [
        (
            "GET /v1/health HTTP/1.1\r\nHost: node\r\n\r\n",
            Head(method: "GET", path: "/v1/health", headers: HTTPHeaders([("Host", "node")]))
        ),
        (
            "GET /v1/summary?paths=1 HTTP/1.1\r\nHost: n\r\nAuthorization: Bearer abc\r\n\r\n",
            Head(
                method: "GET", path: "/v1/summary", query: [.init("paths", "1")],
                headers: HTTPHeaders([("Host", "n"), ("Authorization", "Bearer abc")]))
        ),
        (
            "GET /v1/layer?compress=zstd&x=%41%20b HTTP/1.0\r\n\r\n",
            Head(
                method: "GET", path: "/v1/layer", query: [.init("compress", "zstd"), .init("x", "A b")], minorVersion: 0
            )
        ),
        (
            "HEAD / HTTP/1.1\r\nHost:  spaced \t\r\nContent-Length: 0\r\n\r\n",
            Head(method: "HEAD", path: "/", headers: HTTPHeaders([("Host", "spaced"), ("Content-Length", "0")]))
        ),
        (
            "GET /a?flag HTTP/1.1\r\nhost: h\r\nX-Empty:\r\n\r\n",
            Head(
                method: "GET", path: "/a", query: [.init("flag", "")],
                headers: HTTPHeaders([("host", "h"), ("X-Empty", "")]))
        ),
    ]

    @Test(arguments: valid)
    func parsesValidRequests(text: String, expected: Head) throws {
        let bytes = Array(text.utf8)
        let outcome = try HTTPRequestParser().parse(bytes)
        #expect(outcome == .head(expected, length: bytes.count))
    }

    @Test(arguments: valid)
    func partialHeadsNeedMoreBytes(text: String, expected: Head) throws {
        let bytes = Array(text.utf8)
        for cut in 0..<(bytes.count - 1) {
            #expect(try HTTPRequestParser().parse(Array(bytes[0..<cut])) == .needMoreBytes, "cut at \(cut)")
        }
    }

    @Test func bytesAfterTheHeadAreNotPartOfIt() throws {
        let head = "GET / HTTP/1.1\r\nHost: h\r\n\r\n"
        let outcome = try HTTPRequestParser().parse(Array((head + "GET /next HTTP/1.1\r\n").utf8))
        guard case .head(_, let length) = outcome else { Issue.record("no head"); return }
        #expect(length == head.utf8.count)
    }

    static let invalid: [(String, HTTPRequestParser.Error)] = [
        ("GET / HTTP/1.1\nHost: h\r\n\r\n", .bareLineFeed),
        ("GET / HTTP/1.1\rHost: h\r\n\r\n", .bareCarriageReturn),
        ("GET / HTTP/1.1\r\nHost: h\n\n", .bareLineFeed),
        ("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", .malformedRequestLine("GET  / HTTP/1.1")),
        ("GET / HTTP/1.1 \r\nHost: h\r\n\r\n", .malformedRequestLine("GET / HTTP/1.1 ")),
        ("GET /\r\nHost: h\r\n\r\n", .malformedRequestLine("GET /")),
        ("G(T / HTTP/1.1\r\nHost: h\r\n\r\n", .invalidMethod("G(T")),
        ("GETTINGVERYLONGMETHOD / HTTP/1.1\r\nHost: h\r\n\r\n", .invalidMethod("GETTINGVERYLONGMETHOD")),
        ("GET http://x/ HTTP/1.1\r\nHost: h\r\n\r\n", .invalidTarget("http://x/")),
        ("GET * HTTP/1.1\r\nHost: h\r\n\r\n", .invalidTarget("*")),
        ("GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n", .invalidTarget("/a#frag")),
        ("GET /%zz HTTP/1.1\r\nHost: h\r\n\r\n", .invalidTarget("/%zz")),
        ("GET /a?b=%4 HTTP/1.1\r\nHost: h\r\n\r\n", .invalidTarget("/a?b=%4")),
        ("GET /a?=v HTTP/1.1\r\nHost: h\r\n\r\n", .invalidTarget("/a?=v")),
        ("GET /a?b=%ff HTTP/1.1\r\nHost: h\r\n\r\n", .invalidTarget("/a?b=%ff")),
        ("GET / HTTP/2.0\r\nHost: h\r\n\r\n", .unsupportedVersion("HTTP/2.0")),
        ("GET / http/1.1\r\nHost: h\r\n\r\n", .unsupportedVersion("http/1.1")),
        ("GET / HTTP/1.1\r\n\r\n", .missingHost),
        ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", .repeatedHost),
        ("GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n", .obsoleteLineFolding),
        ("GET / HTTP/1.1\r\nHost : h\r\n\r\n", .invalidHeaderName("Host ")),
        ("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", .malformedHeader("NoColon")),
        ("GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n", .invalidHeaderName("")),
        ("GET / HTTP/1.1\r\nHost: h\r\nX: a\u{1}b\r\n\r\n", .invalidHeaderValue(name: "X")),
        ("GET / HTTP/1.1\r\nHost: h\r\nX: a\u{7f}\r\n\r\n", .invalidHeaderValue(name: "X")),
        ("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", .transferEncodingNotAllowed),
        ("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n", .bodyNotAllowed(contentLength: "5")),
        ("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 00\r\n\r\n", .bodyNotAllowed(contentLength: "00")),
        (
            "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n",
            .bodyNotAllowed(contentLength: "0, 0")
        ),
        ("\r\n\r\n", .malformedRequestLine("")),
    ]

    @Test(arguments: invalid)
    func rejectsOddRequests(text: String, expected: HTTPRequestParser.Error) {
        #expect(throws: expected) { try HTTPRequestParser().parse(Array(text.utf8)) }
    }

    @Test func enforcesLimits() {
        var limits = HTTPRequestParser.Limits()
        limits.maxHeaderCount = 3
        let many = "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"
        #expect(throws: HTTPRequestParser.Error.tooManyHeaders(limit: 3)) {
            try HTTPRequestParser(limits: limits).parse(Array(many.utf8))
        }

        let longLine = "GET / HTTP/1.1\r\nHost: h\r\nX: " + String(repeating: "a", count: 9000) + "\r\n\r\n"
        #expect(throws: HTTPRequestParser.Error.lineTooLong(limit: 8192)) {
            try HTTPRequestParser().parse(Array(longLine.utf8))
        }

        // No terminator but already over the limit: refused without waiting for more.
        let endless = "GET / HTTP/1.1\r\n" + String(repeating: "X: 1234567890\r\n", count: 2000)
        #expect(throws: HTTPRequestParser.Error.headTooLarge(limit: 16384)) {
            try HTTPRequestParser().parse(Array(endless.utf8))
        }
    }

    /// Mutations of valid requests and random bytes: the parser must return or throw, never trap,
    /// and whatever it accepts must satisfy its own rules.
    @Test func fuzzNeverTrapsAndAcceptsOnlyWellFormedHeads() {
        var random = SplitMix64(seed: 0x6e6f_6465_696e_6974)
        let seeds = Self.valid.map { Array($0.0.utf8) }
        let alphabet: [UInt8] = Array("GET /?=&%:\r\n\t HTTP/1.0Host".utf8) + [0, 0x7f, 0x80, 0xff, 13, 10]
        var accepted = 0
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round % 10 == 0 {
                bytes = (0..<Int(random.next() % 200)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            } else {
                bytes = seeds[Int(random.next() % UInt64(seeds.count))]
                for _ in 0..<(1 + random.next() % 4) {
                    let position = Int(random.next() % UInt64(bytes.count + 1))
                    switch random.next() % 3 {
                    case 0 where position < bytes.count:
                        bytes[position] = alphabet[Int(random.next() % UInt64(alphabet.count))]
                    case 1: bytes.insert(alphabet[Int(random.next() % UInt64(alphabet.count))], at: position)
                    default: if position < bytes.count { bytes.remove(at: position) }
                    }
                }
            }
            guard let outcome = try? HTTPRequestParser().parse(bytes) else { continue }
            guard case .head(let head, let length) = outcome else { continue }
            accepted += 1
            let headBytes = bytes[0..<length]
            #expect(headBytes.suffix(4).elementsEqual([13, 10, 13, 10]))
            #expect(head.path.hasPrefix("/"))
            #expect(
                !headBytes.enumerated().contains { index, byte in
                    byte == 10 && (index == 0 || headBytes[index - 1] != 13)
                })
            if head.minorVersion == 1 { #expect(head.headers.values("Host").count == 1) }
        }
        // The mutations keep a fair share valid, so the acceptance checks above did run.
        #expect(accepted > 1000)
    }
}
