import NodeSys
import TestSupport
import Testing

@testable import NodeNetwork

@Suite struct DHCPCodecTests {
    /// A dnsmasq-style DHCPOFFER: type, server id, lease time, mask, router, two DNS servers, host name, domain,
    /// NUL-terminated root path, MTU 9000.
    static let offer: RFCPacket = {
        var packet = RFCPacket()
        packet.options =
            RFCPacket.option(53, [2]) + RFCPacket.option(54, [10, 99, 0, 1]) + RFCPacket.option(51, [0, 0, 0x0e, 0x10])
            + RFCPacket.option(1, [255, 255, 255, 0]) + RFCPacket.option(3, [10, 99, 0, 1])
            + RFCPacket.option(6, [10, 99, 0, 1, 10, 99, 0, 2]) + RFCPacket.option(12, "node01")
            + RFCPacket.option(15, "cluster.test") + RFCPacket.option(17, Array("10.99.0.1:/srv/root".utf8) + [0])
            + RFCPacket.option(26, [0x23, 0x28]) + [255]
        return packet
    }()

    @Test func decodesAnOfferBuiltFromTheRFCLayout() throws {
        let message = try DHCPMessage.decode(Self.offer.bytes)
        #expect(message.operation == DHCPMessage.bootReply)
        #expect(message.transactionID == 0x1234_5678)
        #expect(message.secondsElapsed == 3)
        #expect(message.flags == DHCPMessage.broadcastFlag)
        #expect(message.yourAddress.description == "10.99.0.42")
        #expect(message.serverAddress.description == "10.99.0.1")
        #expect(message.clientHardwareAddress == [0x52, 0x54, 0x00, 0x12, 0x34, 0x56])
        #expect(message.options.messageType == .offer)
        #expect(message.options.serverIdentifier?.description == "10.99.0.1")
        #expect(message.options.leaseTime == 3600)
        #expect(message.options.subnetMask?.description == "255.255.255.0")
        #expect(message.options.routers.map(\.description) == ["10.99.0.1"])
        #expect(message.options.domainNameServers.map(\.description) == ["10.99.0.1", "10.99.0.2"])
        #expect(message.options.hostName == "node01")
        #expect(message.options.domainName == "cluster.test")
        #expect(message.options.rootPath == "10.99.0.1:/srv/root")
        #expect(message.options.interfaceMTU == 9000)

        let lease = try #require(DHCPLease(acknowledgement: message))
        #expect(lease.address.description == "10.99.0.42")
        #expect(lease.prefixLength == 24)
        #expect(lease.nextServer?.description == "10.99.0.1")
        #expect(lease.mtu == 9000)
    }

    @Test func discoverEncodesTheRFCLayout() {
        let client = DHCPClient(
            configuration: .init(
                interfaceName: "eth0", macAddress: MACAddress("52:54:00:12:34:56")!, hostName: "node01"))
        let encoded = client.message(type: .discover, transactionID: 0xCAFE_F00D, secondsElapsed: 2).encoded()
        #expect(encoded.count == 300)
        // op htype hlen hops | xid | secs flags | ciaddr yiaddr siaddr giaddr.
        #expect(hex(Array(encoded[0..<28])) == "01010600" + "cafef00d" + "00028000" + String(repeating: "0", count: 32))
        #expect(hex(Array(encoded[28..<44])) == "525400123456" + String(repeating: "00", count: 10))
        #expect(encoded[44..<236].allSatisfy { $0 == 0 })
        let options = Array(encoded[236...])
        // cookie | 53 discover | 61 client id (type 1 + mac) | 57 max size 1500 | 12 "node01" | 55 request list | end.
        var expected = "63825363"
        expected += "350101"
        expected += "3d0701525400123456"
        expected += "390205dc"
        expected += "0c066e6f64653031"
        expected += "37100103060c0f111a1c33363a3b42437779"
        expected += "ff"
        #expect(hex(Array(options.prefix(expected.count / 2))) == expected)
        #expect(options.dropFirst(expected.count / 2).allSatisfy { $0 == 0 })
    }

    @Test func requestNamesTheOfferedAddressAndServer() throws {
        let client = DHCPClient(
            configuration: .init(interfaceName: "eth0", macAddress: MACAddress("52:54:00:12:34:56")!))
        let offer = try DHCPMessage.decode(Self.offer.bytes)
        let request = client.message(type: .request, transactionID: 0x1234_5678, secondsElapsed: 0, selecting: offer)
        let decoded = try DHCPMessage.decode(request.encoded())
        #expect(decoded.options.messageType == .request)
        #expect(decoded.options.requestedAddress?.description == "10.99.0.42")
        #expect(decoded.options.serverIdentifier?.description == "10.99.0.1")
        #expect(decoded.options.hostName == nil)
        #expect(decoded.clientAddress == .any)
    }

    @Test func repeatedOptionsAreConcatenated() throws {
        // RFC 3396: a long root path split into two option-17 instances, with pad bytes between options.
        var packet = RFCPacket()
        packet.options =
            RFCPacket.option(53, [5]) + RFCPacket.option(17, "server:/very/long") + [0, 0]
            + RFCPacket.option(17, "/root/path")
            + [255]
        let message = try DHCPMessage.decode(packet.bytes)
        #expect(message.options.rootPath == "server:/very/long/root/path")
        #expect(message.options.messageType == .ack)
    }

    @Test func overloadedFileAndSnameFieldsCarryOptions() throws {
        var packet = RFCPacket()
        packet.options = RFCPacket.option(53, [5]) + RFCPacket.option(52, [3]) + [255]
        packet.file = RFCPacket.option(17, "/srv/from-file") + [255]
        packet.sname = RFCPacket.option(12, "from-sname") + [255]
        let message = try DHCPMessage.decode(packet.bytes)
        #expect(message.options.rootPath == "/srv/from-file")
        #expect(message.options.hostName == "from-sname")
        #expect(message.bootFile == "")
        #expect(message.serverName == "")
    }

    @Test func plainSnameAndFileAreText() throws {
        var packet = RFCPacket()
        packet.sname = Array("bootserver".utf8)
        packet.file = Array("pxelinux.0".utf8)
        packet.options = RFCPacket.option(53, [5]) + [255]
        let message = try DHCPMessage.decode(packet.bytes)
        #expect(message.serverName == "bootserver")
        #expect(message.bootFile == "pxelinux.0")
        #expect(DHCPLease(acknowledgement: message)?.bootFile == "pxelinux.0")
    }

    @Test func optionsWithoutEndStopAtTheEndOfTheMessage() throws {
        var packet = RFCPacket()
        packet.options = RFCPacket.option(53, [5])
        #expect(try DHCPMessage.decode(packet.bytes).options.messageType == .ack)
    }

    @Test(
        arguments: [
            ("short", 100),
            ("bad cookie", 0),
            ("truncated option", 1),
            ("option length byte missing", 2),
            ("hlen 17", 3),
        ] as [(String, Int)])
    func malformedMessagesAreErrors(name: String, variant: Int) {
        var packet = RFCPacket()
        switch variant {
        case 0: packet.cookie = [99, 130, 83, 98]
        case 1: packet.options = [53, 1, 5, 17, 40, 0x2f]
        case 2: packet.options = [53, 1, 5, 17]
        default: break
        }
        var raw = variant == 100 ? Array(packet.bytes.prefix(239)) : packet.bytes
        if variant == 3 { raw[2] = 17 }
        #expect(throws: DHCPMessage.DecodeError.self) { try DHCPMessage.decode(raw) }
    }

    @Test(
        arguments: [
            ([UInt8]([0x00, 0x40]), UInt16?.none),  // 64 < 68: bogus
            ([0x05, 0xdc], 1500),
            ([0x05], nil),  // wrong size
        ] as [([UInt8], UInt16?)])
    func mtuOptionIsValidated(value: [UInt8], expected: UInt16?) throws {
        var packet = RFCPacket()
        packet.options = RFCPacket.option(53, [5]) + RFCPacket.option(26, value) + [255]
        #expect(try DHCPMessage.decode(packet.bytes).options.interfaceMTU == expected)
    }

    @Test(arguments: [("10.1.2.3", 8), ("172.16.0.9", 16), ("192.168.1.4", 24)] as [(String, Int)])
    func missingSubnetMaskFallsBackToTheClass(address: String, prefix: Int) throws {
        var packet = RFCPacket()
        packet.yiaddr = IPv4Address(address)!.bytes
        packet.options = RFCPacket.option(53, [5]) + [255]
        #expect(DHCPLease(acknowledgement: try DHCPMessage.decode(packet.bytes))?.prefixLength == prefix)
    }

    @Test func ackWithoutAddressIsNoLease() throws {
        var packet = RFCPacket()
        packet.yiaddr = [0, 0, 0, 0]
        packet.options = RFCPacket.option(53, [5]) + [255]
        #expect(DHCPLease(acknowledgement: try DHCPMessage.decode(packet.bytes)) == nil)
    }

    @Test func addressListsIgnoreATrailingPartialAddress() throws {
        var packet = RFCPacket()
        packet.options = RFCPacket.option(6, [1, 1, 1, 1, 2, 2]) + [255]
        #expect(try DHCPMessage.decode(packet.bytes).options.domainNameServers.map(\.description) == ["1.1.1.1"])
    }

    @Test func longOptionsAreSplitAndRoundTrip() throws {
        var message = DHCPMessage(operation: DHCPMessage.bootReply, transactionID: 7)
        message.clientHardwareAddress = [2, 0, 0, 0, 0, 9]
        let long = String(repeating: "x", count: 600)
        message.options.set(code: DHCPOptionCode.rootPath, text: long)
        message.options.set(messageType: .ack)
        let encoded = message.encoded()
        #expect(encoded[240] == 17 && encoded[241] == 255)
        let decoded = try DHCPMessage.decode(encoded)
        #expect(decoded.options.rootPath == long)
        #expect(decoded.options == message.options)
        #expect(decoded.clientHardwareAddress == message.clientHardwareAddress)
    }

    @Test(
        arguments: [
            ("192.168.77.0/24 via 10.99.0.254", "18 c0a84d 0a6300fe", ["192.168.77.0/24 via 10.99.0.254"]),
            ("default", "00 0a630001", ["0.0.0.0/0 via 10.99.0.1"]),
            (
                "on-link /8 and a /32", "08 0a 00000000  20 0a010203 0a630001",
                ["10.0.0.0/8 via 0.0.0.0", "10.1.2.3/32 via 10.99.0.1"]
            ),
            ("host bits beyond the width are masked", "09 0aff 0a630001", ["10.128.0.0/9 via 10.99.0.1"]),
            ("width 33", "21 0a000000 00 0a630001", nil),
            ("router cut short", "18 c0a84d 0a63", nil),
        ] as [(String, String, [String]?)])
    func classlessStaticRoutes(name: String, value: String, expected: [String]?) throws {
        var packet = RFCPacket()
        packet.options = RFCPacket.option(53, [5]) + RFCPacket.option(121, bytes(value)) + [255]
        #expect(try DHCPMessage.decode(packet.bytes).options.classlessStaticRoutes?.map(\.description) == expected)
    }

    /// RFC 3397 section 3's example, split over two option instances (they are concatenated before decoding).
    @Test func domainSearchListWithCompression() throws {
        var packet = RFCPacket()
        packet.options =
            RFCPacket.option(53, [5]) + RFCPacket.option(119, bytes("03656e67 056170706c65 03636f6d 00 096d61726b"))
            + RFCPacket.option(119, bytes("6574696e67 c004")) + [255]
        let message = try DHCPMessage.decode(packet.bytes)
        #expect(message.options.domainSearch == ["eng.apple.com", "marketing.apple.com"])
        #expect(DHCPLease(acknowledgement: message)?.searchDomains == ["eng.apple.com", "marketing.apple.com"])
    }

    @Test(arguments: ["03656e67 c010", "03656e67", "c000"])
    func malformedDomainSearchIsIgnored(value: String) throws {
        var packet = RFCPacket()
        packet.options =
            RFCPacket.option(53, [5]) + RFCPacket.option(15, "fallback.test") + RFCPacket.option(119, bytes(value)) + [
                255
            ]
        let message = try DHCPMessage.decode(packet.bytes)
        #expect(message.options.domainSearch == nil)
        #expect(DHCPLease(acknowledgement: message)?.searchDomains == ["fallback.test"])
    }

    @Test(
        arguments: [
            ("node01", "node01"), ("node01.cluster.test.", "node01.cluster.test"), ("under_score", "under_score"),
            ("-bad", nil), ("bad-", nil), ("a..b", nil), ("x/../y", nil), ("has space", nil), ("", nil), (".", nil),
            (String(repeating: "a", count: 64), nil), ("n\u{0}", nil), ("nœud", nil),
        ] as [(String, String?)])
    func serverNamesAreValidated(name: String, expected: String?) {
        #expect(DHCPLease.validName(name) == expected)
    }

    @Test func invalidHostNameOptionIsDropped() throws {
        var packet = RFCPacket()
        packet.options = RFCPacket.option(53, [5]) + RFCPacket.option(12, "../../etc") + [255]
        #expect(DHCPLease(acknowledgement: try DHCPMessage.decode(packet.bytes))?.hostName == nil)
    }

    @Test func classlessRoutesReplaceTheRouterOption() throws {
        var packet = RFCPacket()
        packet.options =
            RFCPacket.option(53, [5]) + RFCPacket.option(3, [10, 99, 0, 250])
            + RFCPacket.option(121, bytes("18 c0a84d 0a6300fe 00 0a630001")) + [255]
        let lease = try #require(DHCPLease(acknowledgement: try DHCPMessage.decode(packet.bytes)))
        #expect(lease.routers.map(\.description) == ["10.99.0.1"])
        #expect(lease.classlessRoutes.count == 2)
    }

    @Test func fuzzedMessagesDecodeOrFailWithoutTrapping() {
        var generator = SplitMix64(seed: 0x6468_6370)
        let seeds = [
            Self.offer.bytes,
            DHCPClient(configuration: .init(interfaceName: "x", macAddress: MACAddress("02:00:00:00:00:01")!))
                .message(type: .discover, transactionID: 1, secondsElapsed: 0).encoded(),
        ]
        var decoded = 0
        for round in 0..<5000 {
            let input = generator.fuzzInput(round: round, seeds: seeds, maximumLength: 700)
            if let message = try? DHCPMessage.decode(input) {
                decoded += 1
                _ = DHCPLease(acknowledgement: message)
                _ = (
                    message.options.hostName, message.options.routers, message.options.leaseTime,
                    message.options.interfaceMTU
                )
                _ = message.options.classlessStaticRoutes
                _ = message.options.domainSearch
                _ = message.encoded()
            }
        }
        #expect(decoded > 100)
    }
}
