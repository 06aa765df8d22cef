import NetworkAddresses
import TestSupport
import Testing

@testable import NodeNetwork

/// DHCP and DNS answers come from anyone on the boot network. Valid messages are encoded by the codecs
/// themselves, then mutated; a decoded message must encode and decode to itself.
@Suite struct NetworkFuzzTests {
    static func dhcpSeed(_ random: inout SplitMix64) -> [UInt8] {
        var message = DHCPMessage(operation: 2, transactionID: UInt32(truncatingIfNeeded: random.next()))
        message.clientHardwareAddress = [0x52, 0x54, 0, 0x12, 0x34, UInt8(random.below(256))]
        message.yourAddress = IPv4Address(value: UInt32(truncatingIfNeeded: random.next()))
        message.serverName = random.next() % 2 == 0 ? "boot" : ""
        message.bootFile = random.next() % 2 == 0 ? "pxelinux.0" : ""
        message.options.set(code: 53, data: [UInt8(1 + random.below(8))])
        message.options.set(code: 1, data: [255, 255, 255, 0])
        message.options.set(code: 3, data: [10, 0, 0, 1])
        message.options.set(code: 51, data: [0, 0, 0x0e, 0x10])
        if random.next() % 2 == 0 { message.options.set(code: 12, data: Array("cn\(random.below(100))".utf8)) }
        if random.next() % 2 == 0 { message.options.set(code: 121, data: [24, 10, 1, 2, 10, 0, 0, 1]) }
        if random.next() % 2 == 0 {
            message.options.set(code: 119, data: [7] + Array("cluster".utf8) + [4] + Array("test".utf8) + [0])
        }
        if random.next() % 4 == 0 {
            message.options.set(
                code: 43, data: (0..<random.below(300)).map { _ in UInt8(truncatingIfNeeded: random.next()) })
        }
        return message.encoded()
    }

    static let dhcpAlphabet: [UInt8] = [0, 1, 3, 6, 12, 15, 51, 52, 53, 54, 99, 119, 121, 130, 255, 0x63, 0x82, 0x53]

    @Test func dhcpMessages() {
        FuzzRun.codecRoundTrips(
            "dhcp", inputs: FuzzRun.count(100_000), alphabet: Self.dhcpAlphabet, rounds: 8, seed: Self.dhcpSeed,
            decode: { try DHCPMessage.decode($0) },
            exercise: { message, _, _ in
                _ = (
                    DHCPLease(acknowledgement: message), message.options.routers,
                    message.options.classlessStaticRoutes, message.options.domainSearch, message.options.hostName,
                    message.options.interfaceMTU
                )
            },
            encode: { $0.encoded() })
    }

    static func dnsSeed(_ random: inout SplitMix64) -> [UInt8] {
        let name = ["www.cluster.test", "a.b", "x"][random.below(3)]
        var answers: [DNSRecord] = []
        for _ in 0..<random.below(4) {
            switch random.below(3) {
            case 0:
                answers.append(
                    DNSRecord(
                        name: name, type: 1, ttl: 60,
                        data: .a(IPv4Address(value: UInt32(truncatingIfNeeded: random.next())))))
            case 1: answers.append(DNSRecord(name: name, type: 5, ttl: 60, data: .cname("alias." + name)))
            default: answers.append(DNSRecord(name: name, type: 16, ttl: 1, data: .other([3, 0x61, 0x62, 0x63])))
            }
        }
        let message = DNSMessage(
            id: UInt16(truncatingIfNeeded: random.next()), flags: 0x8180,
            questions: [DNSQuestion(name: name, type: 1)], answers: answers)
        return (try? message.encoded()) ?? []
    }

    static let dnsAlphabet: [UInt8] = [0, 1, 3, 5, 28, 0x3f, 0x40, 0xc0, 0xc0, 0x0c, 0xff, 0x2e]

    @Test func dnsMessages() {
        // A label holding a '.' byte (which dotted text would split in two) is refused at decode, so every
        // accepted message round-trips.
        FuzzRun.codecRoundTrips(
            "dns", inputs: FuzzRun.count(100_000), alphabet: Self.dnsAlphabet, rounds: 6, seed: Self.dnsSeed,
            decode: { try DNSMessage.decode($0) },
            exercise: { message, input, random in
                _ = Resolver.addresses(in: message, for: "www.cluster.test", type: .a)
                _ = try? DNSName.decode(input, at: random.below(input.count + 1))
            },
            // Names a hostile server sent may not be encodable again (too long, odd labels): that is a throw.
            encode: { try? $0.encoded() })
    }
}
