import NodeAgent
import NodeSaveClient
import TestSupport
import Testing

/// The agent's request head parser (anyone on the allowlist, before the token is checked) and the chunked
/// decoder `pull` runs on a node's answer.
@Suite struct HTTPFuzzTests {
    static let requests: [[UInt8]] = [
        "GET /v1/health HTTP/1.1\r\nHost: node\r\n\r\n",
        "GET /v1/summary?paths=1 HTTP/1.1\r\nHost: n\r\nAuthorization: Bearer abc\r\n\r\n",
        "GET /v1/layer?compress=zstd&x=%41%20b HTTP/1.0\r\n\r\n",
        "HEAD / HTTP/1.1\r\nHost:  spaced \t\r\nContent-Length: 0\r\n\r\n",
        "GET /a?flag HTTP/1.1\r\nhost: h\r\nX-Empty:\r\n\r\n",
        "GET /v1/layer HTTP/1.1\r\nHost: [fe80::1]:7070\r\nUser-Agent: nodeinit\r\nAccept: */*\r\n\r\n",
    ].map { Array($0.utf8) }
    static let alphabet: [UInt8] =
        Array("GET /?=&%:\r\n\t HTTP/1.0Host: Transfer-Encoding Content-Length".utf8) + [0, 0x7f, 0x80, 0xff]

    @Test func requestHeads() {
        FuzzRun.run("http-head", inputs: FuzzRun.count(400_000), minimumAccepted: 5_000, minimumRejected: 50_000) {
            random, tally in
            let seed = Self.requests[random.below(Self.requests.count)]
            let bytes =
                random.next() % 10 == 0
                ? (0..<random.below(300)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                : random.mutate(seed, alphabet: Self.alphabet)
            let outcome: HTTPRequestParser.Outcome
            do { outcome = try HTTPRequestParser().parse(bytes) } catch {
                tally.rejected += 1  // typed throws: always an HTTPRequestParser.Error
                return
            }
            guard case .head(let head, let length) = outcome else { return }
            tally.accepted += 1
            if length > bytes.count || !bytes[0..<length].suffix(4).elementsEqual([13, 10, 13, 10])
                || !head.path.hasPrefix("/")
            {
                Issue.record("accepted head breaks the parser's own rules: \(head)")
            }
            // Render -> parse: the head the parser accepted, written back out, parses to the same head.
            var text = "\(head.method) \(head.path)"
            if !head.query.isEmpty {
                text +=
                    "?"
                    + head.query.map { $0.name + ($0.value.isEmpty ? "" : "=" + percent($0.value)) }.joined(
                        separator: "&")
            }
            text += " HTTP/1.\(head.minorVersion)\r\n"
            for (name, value) in head.headers.fields { text += "\(name): \(value)\r\n" }
            text += "\r\n"
            if case .head(let again, _)? = try? HTTPRequestParser().parse(Array(text.utf8)) {
                if again.method != head.method || again.path != head.path || again.headers != head.headers {
                    Issue.record("head changed on render -> parse: \(head) became \(again)")
                }
                tally.roundTrips += 1
            }
        }
    }

    /// Percent-encodes everything but unreserved characters, so the rendered query means what was parsed.
    func percent(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            if (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
                || byte == 0x2d || byte == 0x2e || byte == 0x5f || byte == 0x7e
            {
                out.append(Character(Unicode.Scalar(byte)))
            } else {
                out += "%" + String(byte >> 4, radix: 16).uppercased() + String(byte & 15, radix: 16).uppercased()
            }
        }
        return out
    }

    static let chunkAlphabet: [UInt8] = Array("0123456789abcdefABCDEF;\r\n: ext=1".utf8) + [0, 0xff]

    @Test func chunkedBodies() {
        FuzzRun.run("chunked", inputs: FuzzRun.count(200_000), minimumAccepted: 20_000, minimumRejected: 20_000) {
            random, tally in
            // A valid body: random chunks, sometimes with trailers (the agent's report trailer).
            var body: [UInt8] = []
            var encoded: [UInt8] = []
            for _ in 0..<random.below(5) {
                let chunk = (0..<(1 + random.below(300))).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                body += chunk
                encoded += ChunkedEncoding.chunkPrefix(size: chunk.count) + chunk + ChunkedEncoding.chunkSuffix
            }
            var trailers = HTTPHeaders()
            if random.next() % 2 == 0 { trailers.append("Nodeinit-Report", "eyJ4IjoxfQ==") }
            encoded += ChunkedEncoding.lastChunk(trailers: trailers)
            let mutated = random.next() % 3 != 0
            let input = mutated ? random.mutate(encoded, alphabet: Self.chunkAlphabet) : encoded
            // Fed in pieces of random sizes: the decoder keeps its own state across them.
            var decoder = ChunkedDecoder()
            var decoded: [UInt8] = []
            var offset = 0
            do {
                while offset < input.count {
                    let piece = min(input.count - offset, 1 + random.below(64))
                    try input[offset..<(offset + piece)].withUnsafeBytes { raw in
                        try decoder.feed(raw) { decoded += $0 }
                    }
                    offset += piece
                }
            } catch is ChunkedDecoder.Error {
                tally.rejected += 1
                if !mutated { Issue.record("a valid chunked body was refused") }
                return
            } catch {
                Issue.record("chunked decoder threw \(error), not a ChunkedDecoder.Error")
                return
            }
            if decoded.count > input.count { Issue.record("more body bytes than input bytes") }
            guard decoder.isComplete else {
                tally.rejected += 1  // incomplete: pull reports the truncated transfer
                if !mutated { Issue.record("a valid chunked body was left incomplete") }
                return
            }
            tally.accepted += 1
            if !mutated {
                if decoded != body || decoder.trailers != trailers {
                    Issue.record("valid chunked body decoded differently")
                }
                tally.roundTrips += 1
            }
        }
    }
}
