import Logging
import NodeSys
import TestSupport
import Testing

@testable import NodeNetwork

@Suite struct DNSCodecTests {
    @Test func queryFollowsRFC1035Layout() throws {
        let query = try DNSMessage.query(id: 0x1234, name: "cnfs.test", type: .a)
        // id | flags RD | qd=1 an=0 ns=0 ar=0 | 4cnfs 4test 0 | type A | class IN.
        #expect(hex(query) == "1234" + "0100" + "0001000000000000" + "04636e6673047465737400" + "0001" + "0001")
    }

    @Test(arguments: [
        ("", "dns: empty name"), (".", "dns: empty name"), ("a..b", "empty label"),
        (String(repeating: "a", count: 64) + ".test", "longer than 63"),
        (Array(repeating: String(repeating: "a", count: 63), count: 4).joined(separator: "."), "longer than 255"),
    ])
    func badNamesAreRejected(name: String, message: String) {
        #expect {
            _ = try DNSName.encode(name)
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    /// A response to "www.cluster.test A" with compression: the answer's owner points at the question (C00C), the
    /// CNAME target "nfs.cluster.test" is "3nfs" + a pointer to "cluster.test" inside the question, and the A record's
    /// owner points at the CNAME target.
    static let compressedReply = bytes(
        """
        beef 8180 0001 0002 0000 0000
        03777777 07636c7573746572 0474657374 00 0001 0001
        c00c 0005 0001 00000e10 0006 036e6673 c010
        c02e 0001 0001 00000e10 0004 0a630005
        """)

    @Test func decodesCompressedNamesAndCNAMEs() throws {
        let reply = try DNSMessage.decode(Self.compressedReply)
        #expect(reply.id == 0xBEEF && reply.isResponse && !reply.isTruncated && reply.responseCode == 0)
        #expect(reply.questions == [DNSQuestion(name: "www.cluster.test", type: 1)])
        #expect(reply.answers.count == 2)
        #expect(reply.answers[0].name == "www.cluster.test")
        #expect(reply.answers[0].data == .cname("nfs.cluster.test"))
        #expect(reply.answers[1].name == "nfs.cluster.test")
        #expect(reply.answers[1].data == .a(IPv4Address(10, 99, 0, 5)))
        #expect(reply.answers[1].ttl == 3600)
        let (addresses, finalName) = Resolver.addresses(in: reply, for: "WWW.Cluster.Test", type: .a)
        #expect(addresses == [.v4(IPv4Address(10, 99, 0, 5))])
        #expect(finalName == "nfs.cluster.test")
    }

    @Test(arguments: [
        ("pointer to itself", "0000 8180 0001 0000 0000 0000 c00c 0001 0001"),
        ("two pointers to each other", "0000 8180 0001 0000 0000 0000 c00e c00c 0001 0001"),
        ("pointer past the end", "0000 8180 0001 0000 0000 0000 c0ff 0001 0001"),
        ("reserved label type 0x40", "0000 8180 0001 0000 0000 0000 4161 00 0001 0001"),
        ("label past the end", "0000 8180 0001 0000 0000 0000 0a6162"),
        ("answer data past the end", "0000 8180 0000 0001 0000 0000 00 0001 0001 00000000 0010 0a00"),
        ("A record of 3 bytes", "0000 8180 0000 0001 0000 0000 00 0001 0001 00000000 0003 0a0000"),
        ("header only 11 bytes", "0000 8180 0001 0000 0000 00"),
    ])
    func malformedRepliesAreErrors(name: String, text: String) {
        #expect(throws: DNSMessage.DecodeError.self) { try DNSMessage.decode(bytes(text)) }
    }

    /// A label `www.cluster.test` (one label holding dots) must not pass for the three-label name it prints as.
    @Test func labelHoldingADotIsRefused() throws {
        let spoof: [UInt8] = [16] + Array("www.cluster.test".utf8) + [0]
        let reply = bytes("0000 8180 0001 0000 0000 0000") + spoof + bytes("0001 0001")
        #expect(throws: DNSName.Error.dotInLabel(offset: 12)) { _ = try DNSName.decode(reply, at: 12) }
        #expect(throws: DNSMessage.DecodeError.badName(.dotInLabel(offset: 12))) { try DNSMessage.decode(reply) }
        #expect("\(DNSName.Error.dotInLabel(offset: 12))".contains("'.'"))
        // The same name as three labels decodes.
        let proper =
            bytes("0000 8180 0001 0000 0000 0000") + (try DNSName.encode("www.cluster.test")) + bytes("0001 0001")
        #expect(try DNSMessage.decode(proper).questions.first?.name == "www.cluster.test")
    }

    @Test func longPointerChainsAreBounded() throws {
        // 100 pointers, each to the previous one: more hops than any real name needs.
        var message = bytes("0000 8180 0001 0000 0000 0000") + [0]
        for index in 0..<100 {
            let target = index == 0 ? 12 : 12 + 1 + (index - 1) * 2
            message += [0xC0 | UInt8(target >> 8), UInt8(target & 0xFF)]
        }
        #expect(throws: DNSName.Error.pointerLoop(offset: message.count - 2)) {
            _ = try DNSName.decode(message, at: message.count - 2)
        }
        #expect(try DNSName.decode(message, at: 12 + 1 + 10 * 2).name == "")
    }

    @Test func encodeDecodeRoundTrip() throws {
        let message = DNSMessage(
            id: 7, flags: 0x8180, questions: [DNSQuestion(name: "a.b", type: 28)],
            answers: [DNSRecord(name: "a.b", type: 28, ttl: 5, data: .aaaa(IPv6Address("2001:db8::5")!))])
        #expect(try DNSMessage.decode(message.encoded()) == message)
    }

    @Test func fuzzedRepliesDecodeOrFailWithoutTrapping() {
        var generator = SplitMix64(seed: 0x646e_7321)
        let seeds = [Self.compressedReply, (try? DNSMessage.query(id: 1, name: "x.y", type: .aaaa)) ?? []]
        for round in 0..<8000 {
            let input = generator.fuzzInput(round: round, seeds: seeds, maximumLength: 300)
            if let message = try? DNSMessage.decode(input) {
                _ = Resolver.addresses(in: message, for: "www.cluster.test", type: .a)
            }
            _ = try? DNSName.decode(input, at: Int(generator.next() % 300))
        }
    }
}

/// A scripted DNS server: `answer(name, type, overTCP)` returns a reply or nil (silence).
final class FakeDNSServer: DNSTransport {
    var log: [String] = []
    let answer: (SocketAddress, DNSQuestion, UInt16, Bool) -> DNSMessage?

    init(answer: @escaping (SocketAddress, DNSQuestion, UInt16, Bool) -> DNSMessage?) { self.answer = answer }

    private func handle(_ query: [UInt8], server: SocketAddress, tcp: Bool) -> [UInt8]? {
        guard let decoded = try? DNSMessage.decode(query), let question = decoded.questions.first else { return nil }
        log.append("\(server.address) \(tcp ? "tcp" : "udp") \(question.name) \(question.type)")
        return (try? answer(server, question, decoded.id, tcp)?.encoded()) ?? nil
    }

    func exchangeUDP(
        query: [UInt8], server: SocketAddress, deadline: ContinuousClock.Instant, accept: ([UInt8]) -> Bool
    ) throws(Resolver.TransportError) -> [UInt8]? {
        guard let reply = handle(query, server: server, tcp: false), accept(reply) else { return nil }
        return reply
    }

    func exchangeTCP(query: [UInt8], server: SocketAddress, deadline: ContinuousClock.Instant) throws(Resolver
        .TransportError) -> [UInt8]
    {
        guard let reply = handle(query, server: server, tcp: true) else {
            throw Resolver.TransportError(detail: "closed")
        }
        return reply
    }

    static func reply(
        _ question: DNSQuestion, id: UInt16, rcode: UInt16 = 0, truncated: Bool = false, answers: [DNSRecord] = []
    ) -> DNSMessage {
        DNSMessage(id: id, flags: 0x8180 | rcode | (truncated ? 0x0200 : 0), questions: [question], answers: answers)
    }
}

@Suite struct ResolverTests {
    let s1 = IPAddress("10.99.0.1")!
    let s2 = IPAddress("10.99.0.2")!

    func resolver(_ servers: [IPAddress], search: [String] = []) -> Resolver {
        Resolver(servers: servers, searchDomains: search, timeoutPerTry: .milliseconds(50), attempts: 2)
    }

    @Test func literalsNeedNoServer() throws {
        #expect(try Resolver(servers: []).resolve(host: "10.1.2.3") == [IPAddress("10.1.2.3")!])
        #expect(try Resolver(servers: []).resolve(host: "[2001:db8::1]") == [IPAddress("2001:db8::1")!])
    }

    @Test func noServersIsAClearError() {
        #expect(throws: Resolver.Error.noServers(name: "cnfs")) { try Resolver(servers: []).resolve(host: "cnfs") }
    }

    @Test func aAndAAAAAreCombinedIPv4First() throws {
        let server = FakeDNSServer { _, question, id, _ in
            question.type == 1
                ? FakeDNSServer.reply(
                    question, id: id,
                    answers: [DNSRecord(name: question.name, type: 1, ttl: 1, data: .a(IPv4Address(10, 99, 0, 5)))])
                : FakeDNSServer.reply(
                    question, id: id,
                    answers: [DNSRecord(name: question.name, type: 28, ttl: 1, data: .aaaa(IPv6Address("fd00::5")!))])
        }
        let result = try resolver([s1]).resolve(host: "cnfs.test", transport: server)
        #expect(result.map(\.description) == ["10.99.0.5", "fd00::5"])
    }

    @Test func cnameTargetsAreQueriedWhenTheAnswerStopsAtTheAlias() throws {
        let server = FakeDNSServer { _, question, id, _ in
            switch (question.name, question.type) {
            case ("state.test", 1):
                FakeDNSServer.reply(
                    question, id: id,
                    answers: [DNSRecord(name: "state.test", type: 5, ttl: 1, data: .cname("cnfs.test"))])
            case ("cnfs.test", 1):
                FakeDNSServer.reply(
                    question, id: id,
                    answers: [DNSRecord(name: "cnfs.test", type: 1, ttl: 1, data: .a(IPv4Address(10, 99, 0, 5)))])
            default: FakeDNSServer.reply(question, id: id)
            }
        }
        #expect(try resolver([s1]).resolve(host: "state.test", transport: server) == [IPAddress("10.99.0.5")!])
    }

    @Test func cnameLoopsAreBounded() {
        let server = FakeDNSServer { _, question, id, _ in
            let target = question.name == "a.test" ? "b.test" : "a.test"
            return FakeDNSServer.reply(
                question, id: id, answers: [DNSRecord(name: question.name, type: 5, ttl: 1, data: .cname(target))])
        }
        #expect(throws: Resolver.Error.self) { try resolver([s1]).resolve(host: "a.test", transport: server) }
    }

    @Test func truncatedUDPRepliesAreRetriedOverTCP() throws {
        let server = FakeDNSServer { _, question, id, tcp in
            guard question.type == 1 else { return FakeDNSServer.reply(question, id: id) }
            return tcp
                ? FakeDNSServer.reply(
                    question, id: id,
                    answers: [DNSRecord(name: question.name, type: 1, ttl: 1, data: .a(IPv4Address(10, 99, 0, 7)))])
                : FakeDNSServer.reply(question, id: id, truncated: true)
        }
        #expect(try resolver([s1]).resolve(host: "big.test", transport: server) == [IPAddress("10.99.0.7")!])
        #expect(server.log.prefix(2) == ["10.99.0.1 udp big.test 1", "10.99.0.1 tcp big.test 1"])
    }

    @Test func failingServerFallsThroughToTheNext() throws {
        let server = FakeDNSServer { address, question, id, _ in
            if address.address == IPAddress("10.99.0.1")! { return FakeDNSServer.reply(question, id: id, rcode: 2) }
            return question.type == 1
                ? FakeDNSServer.reply(
                    question, id: id,
                    answers: [DNSRecord(name: question.name, type: 1, ttl: 1, data: .a(IPv4Address(10, 99, 0, 8)))])
                : FakeDNSServer.reply(question, id: id)
        }
        #expect(try resolver([s1, s2]).resolve(host: "x.test", transport: server) == [IPAddress("10.99.0.8")!])
    }

    @Test func silentServersGiveAnErrorListingEachTry() {
        let server = FakeDNSServer { _, _, _, _ in nil }
        #expect {
            _ = try resolver([s1, s2]).resolve(host: "x.test", transport: server)
        } throws: { error in
            guard case .serversFailed(let name, let attempts, let failures)? = error as? Resolver.Error else {
                return false
            }
            return name == "x.test" && attempts == 4 && failures.first == "10.99.0.1: timeout"
        }
    }

    @Test func wrongIdOrQuestionIsNotAnAnswer() {
        let server = FakeDNSServer { _, question, id, _ in
            FakeDNSServer.reply(
                DNSQuestion(name: "other.test", type: question.type), id: id,
                answers: [DNSRecord(name: "other.test", type: 1, ttl: 1, data: .a(IPv4Address(6, 6, 6, 6)))])
        }
        #expect(throws: Resolver.Error.self) { try resolver([s1]).resolve(host: "x.test", transport: server) }
    }

    @Test func searchDomainsApplyToShortNamesFirst() throws {
        let server = FakeDNSServer { _, question, id, _ in
            if question.name == "cnfs.cluster.test" && question.type == 1 {
                return FakeDNSServer.reply(
                    question, id: id,
                    answers: [DNSRecord(name: question.name, type: 1, ttl: 1, data: .a(IPv4Address(10, 99, 0, 5)))])
            }
            return FakeDNSServer.reply(question, id: id, rcode: question.name == "cnfs.cluster.test" ? 0 : 3)
        }
        let resolver = resolver([s1], search: ["other.test", "cluster.test"])
        #expect(try resolver.resolve(host: "cnfs", transport: server) == [IPAddress("10.99.0.5")!])
        #expect(server.log.first == "10.99.0.1 udp cnfs.other.test 1")
        #expect(resolver.candidateNames(for: "cnfs") == ["cnfs.other.test", "cnfs.cluster.test", "cnfs"])
        #expect(resolver.candidateNames(for: "a.b") == ["a.b", "a.b.other.test", "a.b.cluster.test"])
        #expect(resolver.candidateNames(for: "a.b.") == ["a.b"])
    }

    @Test func nxdomainEverywhereIsNotFound() {
        let server = FakeDNSServer { _, question, id, _ in FakeDNSServer.reply(question, id: id, rcode: 3) }
        #expect {
            _ = try resolver([s1]).resolve(host: "missing.test", transport: server)
        } throws: { error in
            guard case .notFound(let name, let tried, _)? = error as? Resolver.Error else { return false }
            return name == "missing.test" && tried == ["missing.test"]
        }
    }
}
