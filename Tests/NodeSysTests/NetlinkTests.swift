import TestSupport
import Testing

@testable import NodeSys

/// Records requests and replays canned kernel replies, one datagram per receive.
final class ScriptedNetlink: NetlinkTransport {
    var sent: [[UInt8]] = []
    var replies: [[UInt8]]

    init(replies: [[UInt8]]) { self.replies = replies }

    func send(_ frame: [UInt8]) throws(RouteNetlink.Error) { sent.append(frame) }

    func receive(deadline: ContinuousClock.Instant) throws(RouteNetlink.Error) -> [UInt8] {
        guard !replies.isEmpty else { throw .timedOut }
        return replies.removeFirst()
    }
}

// Canned kernel replies, laid out by hand from <linux/netlink.h>/<linux/rtnetlink.h> (x86-64, little-endian).
enum Canned {
    /// RTM_NEWLINK for eth0: index 2, flags UP|BROADCAST|RUNNING|MULTICAST|LOWER_UP, mtu 1500, operstate UP,
    /// mac 52:54:00:12:34:56, carrier 1.
    static let eth0Link = bytes(
        """
        50000000 1000 0200 01000000 00000000
        00 00 0100 02000000 43100100 00000000
        0900 0300 65746830 00 000000
        0800 0400 dc050000
        0500 1000 06 000000
        0a00 0100 525400123456 0000
        0500 2100 01 000000
        """)
    /// RTM_NEWLINK for lo: index 1, flags UP|LOOPBACK|RUNNING|LOWER_UP, no carrier attribute.
    static let loLink = bytes(
        """
        28000000 1000 0200 01000000 00000000
        00 00 0403 01000000 49000100 00000000
        0700 0300 6c6f00 00
        """)
    /// NLMSG_DONE for sequence 1.
    static let done1 = bytes("14000000 0300 0200 01000000 00000000 00000000")

    static func ack(sequence: UInt8, error: String = "00000000") -> [UInt8] {
        bytes("24000000 0200 0001 \(hex([sequence])) 000000 00000000 \(error) 00000000 0000 0000 00000000 00000000")
    }
}

@Suite struct NetlinkFrameTests {
    @Test func getLinksIsAnIfinfomsgDump() {
        #expect(
            hex(RouteNetlink.getLinksFrame(sequence: 1))
                == hex(bytes("20000000 1200 0103 01000000 00000000  00 00 0000 00000000 00000000 00000000")))
    }

    @Test func setLinkUpChangesOnlyTheUpFlag() {
        #expect(
            hex(RouteNetlink.setLinkUpFrame(sequence: 2, index: 3))
                == hex(bytes("20000000 1000 0500 02000000 00000000  00 00 0000 03000000 01000000 01000000")))
    }

    @Test func setMTUCarriesIflaMtu() {
        #expect(
            hex(RouteNetlink.setMTUFrame(sequence: 3, index: 3, mtu: 9000))
                == hex(
                    bytes(
                        "28000000 1000 0500 03000000 00000000  00 00 0000 03000000 00000000 00000000  0800 0400 28230000"
                    )))
    }

    @Test func addAddressHasLocalAddressAndBroadcast() {
        let frame = RouteNetlink.addAddressFrame(
            sequence: 4, index: 2, address: IPv4Address(10, 99, 0, 7), prefixLength: 24)
        #expect(
            hex(frame)
                == hex(
                    bytes(
                        """
                        30000000 1400 0505 04000000 00000000
                        02 18 00 00 02000000
                        0800 0200 0a630007
                        0800 0100 0a630007
                        0800 0400 0a6300ff
                        """)))
    }

    /// `ip -6 addr add fe80::5054:ff:fe12:3456/64 dev <2>` without replace: create and exclusive, so an address the
    /// kernel added first is left alone (EEXIST).
    @Test func ipv6AddressFrameIsExclusive() throws {
        let frame = RouteNetlink.addIPv6AddressFrame(
            sequence: 3, index: 2, address: try #require(IPv6Address("fe80::5054:ff:fe12:3456")), prefixLength: 64)
        #expect(
            hex(frame)
                == hex(
                    bytes(
                        """
                        2c000000 1400 0506 03000000 00000000
                        0a 40 00 fd 02000000
                        1400 0200 fe800000 00000000 505400ff fe123456
                        """)))
    }

    @Test func deleteAddressHasTheSameBodyWithoutCreateFlags() {
        let frame = RouteNetlink.deleteAddressFrame(
            sequence: 8, index: 2, address: IPv4Address(10, 99, 0, 7), prefixLength: 24)
        #expect(
            hex(frame)
                == hex(
                    bytes(
                        """
                        30000000 1500 0500 08000000 00000000
                        02 18 00 00 02000000
                        0800 0200 0a630007
                        0800 0100 0a630007
                        0800 0400 0a6300ff
                        """)))
    }

    @Test func setLinkDownClearsOnlyTheUpFlag() {
        #expect(
            hex(RouteNetlink.setLinkDownFrame(sequence: 2, index: 3))
                == hex(bytes("20000000 1000 0500 02000000 00000000  00 00 0000 03000000 00000000 01000000")))
    }

    @Test func renameCarriesANulTerminatedIflaIfname() {
        // "boot0" + NUL = 6 bytes, attribute length 10, padded to 12.
        #expect(
            hex(RouteNetlink.renameLinkFrame(sequence: 4, index: 3, name: "boot0"))
                == hex(
                    bytes(
                        "2c000000 1000 0500 04000000 00000000  00 00 0000 03000000 00000000 00000000  0a00 0300 626f6f7430 00 0000"
                    )))
    }

    @Test func setMACCarriesIflaAddress() {
        #expect(
            hex(RouteNetlink.setMACAddressFrame(sequence: 5, index: 3, mac: MACAddress("02:99:00:00:00:2b")!))
                == hex(
                    bytes(
                        "2c000000 1000 0500 05000000 00000000  00 00 0000 03000000 00000000 00000000  0a00 0100 02990000002b 0000"
                    )))
    }

    @Test(arguments: ["", "sixteen-bytes-xx", "a/b", "a:b", "a b", ".", ".."])
    func invalidLinkNamesAreRefusedBeforeTheKernel(name: String) {
        let transport = ScriptedNetlink(replies: [])
        #expect(throws: RouteNetlink.Error.invalidLinkName(name)) {
            try RouteNetlink(transport: transport).renameLink(index: 2, to: name)
        }
        #expect(transport.sent.isEmpty)
    }

    @Test func addAddressWithSlash32HasNoBroadcast() {
        let frame = RouteNetlink.addAddressFrame(
            sequence: 9, index: 2, address: IPv4Address(10, 99, 0, 7), prefixLength: 32)
        #expect(frame.count == 16 + 8 + 16)
    }

    @Test func defaultRouteHasGatewayAndOutputInterfaceButNoDestination() {
        let frame = RouteNetlink.addRouteFrame(
            sequence: 5, destination: .any, prefixLength: 0, gateway: IPv4Address(10, 99, 0, 1), index: 2)
        #expect(
            hex(frame)
                == hex(
                    bytes(
                        """
                        2c000000 1800 0505 05000000 00000000
                        02 00 00 00 fe 03 00 01 00000000
                        0800 0500 0a630001
                        0800 0400 02000000
                        """)))
    }

    @Test func rdRouteStyleRouteMasksTheDestination() {
        let frame = RouteNetlink.addRouteFrame(
            sequence: 6, destination: IPv4Address(192, 168, 5, 77), prefixLength: 24,
            gateway: IPv4Address(10, 99, 0, 254),
            index: 2)
        #expect(
            hex(frame)
                == hex(
                    bytes(
                        """
                        34000000 1800 0505 06000000 00000000
                        02 18 00 00 fe 03 00 01 00000000
                        0800 0100 c0a80500
                        0800 0500 0a6300fe
                        0800 0400 02000000
                        """)))
    }

    @Test func routeWithoutGatewayIsLinkScoped() {
        let frame = RouteNetlink.addRouteFrame(
            sequence: 7, destination: IPv4Address(10, 1, 2, 3), prefixLength: 32, gateway: nil, index: 4)
        #expect(NetlinkReader(frame).uint8(at: 16 + 6) == NetlinkConstants.routeScopeLink)
    }
}

@Suite struct NetlinkParseTests {
    @Test func linkDumpParsesNameMacFlagsAndCarrier() throws {
        let transport = ScriptedNetlink(replies: [Canned.eth0Link + Canned.loLink, Canned.done1])
        let session = RouteNetlink(transport: transport)
        let links = try session.links()
        #expect(links.map(\.name) == ["lo", "eth0"])
        let eth0 = try #require(links.last)
        #expect(eth0.index == 2)
        #expect(eth0.macAddress?.description == "52:54:00:12:34:56")
        #expect(eth0.mtu == 1500)
        #expect(eth0.operationalState == .up)
        #expect(eth0.isUp && eth0.hasCarrier && !eth0.isLoopback)
        let lo = try #require(links.first)
        #expect(lo.isLoopback && lo.carrier == nil && lo.hasCarrier)
        #expect(transport.sent == [RouteNetlink.getLinksFrame(sequence: 1)])
    }

    @Test func acknowledgedRequestSucceedsOnZeroError() throws {
        let transport = ScriptedNetlink(replies: [Canned.ack(sequence: 1)])
        try RouteNetlink(transport: transport).setLinkUp(index: 2)
        #expect(transport.sent.count == 1)
    }

    @Test func kernelErrorCarriesOperationAndErrno() {
        // -17 = EEXIST.
        let transport = ScriptedNetlink(replies: [Canned.ack(sequence: 1, error: "efffffff")])
        #expect {
            try RouteNetlink(transport: transport).addAddress(
                index: 2, address: IPv4Address(10, 0, 0, 1), prefixLength: 8)
        } throws: { error in
            guard let error = error as? RouteNetlink.Error, case .kernel(let operation, let errno) = error else {
                return false
            }
            return errno == .fileExists && operation.contains("10.0.0.1/8") && error.isAlreadyExists
                && error.description.contains("file exists")
        }
    }

    @Test func repliesForOtherSequencesAreSkipped() throws {
        let transport = ScriptedNetlink(replies: [Canned.ack(sequence: 9, error: "efffffff"), Canned.ack(sequence: 1)])
        try RouteNetlink(transport: transport).setMTU(index: 2, mtu: 1400)
    }

    @Test func noReplyIsABoundedError() {
        let transport = ScriptedNetlink(replies: [])
        #expect(throws: RouteNetlink.Error.self) { try RouteNetlink(transport: transport).setLinkUp(index: 1) }
    }

    @Test func addressDumpReadsLocalPrefixAndLabel() throws {
        let reply = bytes(
            """
            3c000000 1400 0200 01000000 00000000
            02 18 80 00 02000000
            0800 0100 0a630007
            0800 0200 0a630007
            0900 0300 65746830 00 000000
            0800 0400 0a6300ff
            """)
        let transport = ScriptedNetlink(replies: [reply, Canned.done1])
        let addresses = try RouteNetlink(transport: transport).addresses(index: 2)
        #expect(
            addresses == [
                InterfaceAddress(
                    interfaceIndex: 2, address: .v4(IPv4Address(10, 99, 0, 7)), prefixLength: 24, label: "eth0")
            ])
    }

    @Test func routeDumpFindsTheDefaultGateway() throws {
        let reply = bytes(
            """
            3c000000 1800 0200 01000000 00000000
            02 00 00 00 fe 03 00 01 00000000
            0800 0f00 fe000000
            0800 0500 0a630001
            0800 0400 02000000
            0800 0600 64000000
            """)
        let transport = ScriptedNetlink(replies: [reply, Canned.done1])
        let routes = try RouteNetlink(transport: transport).routes()
        #expect(routes.count == 1)
        #expect(routes.first?.isDefault == true)
        #expect(routes.first?.gateway == IPv4Address(10, 99, 0, 1))
        #expect(routes.first?.outputInterfaceIndex == 2)
    }

    @Test(arguments: [
        "",  // nothing
        "10000000 1000",  // header cut short
        "ff000000 1000 0200 01000000 00000000",  // length past the buffer
        "08000000 1000 0200 01000000 00000000",  // length below the header size
    ])
    func malformedBuffersAreErrors(text: String) {
        let buffer = bytes(text)
        if buffer.isEmpty {
            #expect((try? NetlinkMessage.parseAll(buffer))?.isEmpty == true)
        } else {
            #expect(throws: NetlinkMessage.ParseError.self) { try NetlinkMessage.parseAll(buffer) }
        }
    }

    @Test func attributeWalkStopsAtABadLength() {
        // First attribute fine, second claims 0x40 bytes.
        let payload = [UInt8](repeating: 0, count: 16) + bytes("0800 0400 dc050000 4000 0300 6574")
        let attributes = NetlinkMessage.attributes(in: payload, from: 16)
        #expect(attributes.count == 1)
        #expect(attributes[NetlinkConstants.linkAttributeMTU] == bytes("dc050000"))
    }

    @Test func fuzzedRepliesNeverTrap() {
        var generator = SplitMix64(seed: 0x6e6c_6675_7a7a)
        let seeds = [Canned.eth0Link, Canned.loLink, Canned.done1, Canned.ack(sequence: 1)]
        for round in 0..<4000 {
            var buffer: [UInt8]
            if round % 2 == 0 {
                buffer = (0..<Int(generator.next() % 200)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            } else {
                buffer = seeds[Int(generator.next() % UInt64(seeds.count))]
                for _ in 0..<(1 + generator.next() % 6) where !buffer.isEmpty {
                    buffer[Int(generator.next() % UInt64(buffer.count))] = UInt8(truncatingIfNeeded: generator.next())
                }
                buffer = Array(buffer.prefix(Int(generator.next() % UInt64(buffer.count + 1))))
            }
            if let messages = try? NetlinkMessage.parseAll(buffer) {
                for message in messages {
                    _ = NetworkLink.parse(payload: message.payload)
                    _ = InterfaceAddress.parse(payload: message.payload)
                    _ = IPv4Route.parse(payload: message.payload)
                }
            }
            _ = NetworkLink.parse(payload: buffer)
            _ = InterfaceAddress.parse(payload: buffer)
            _ = IPv4Route.parse(payload: buffer)
        }
    }
}

/// RTM_NEWLINK frames for bonds, VLANs and bridges, laid out by hand from <linux/if_link.h>: IFLA_LINKINFO (18) and
/// IFLA_INFO_DATA (2) carry NLA_F_NESTED (0x8000), as iproute2's `ip link add ... type` sends them.
@Suite struct VirtualLinkFrameTests {
    @Test func createVLANNamesItsParentAndId() {
        #expect(
            hex(RouteNetlink.createLinkFrame(sequence: 7, name: "eth0.5", kind: .vlan(id: 5, parentIndex: 2)))
                == hex(
                    bytes(
                        """
                        4c000000 1000 0506 07000000 00000000
                        00 00 0000 00000000 00000000 00000000
                        0b00 0300 6574 6830 2e35 00 00
                        0800 0500 02000000
                        1800 1280
                          0800 0100 766c616e
                          0c00 0280
                            0600 0100 0500 0000
                        """)))
    }

    @Test func createBridgeForwardsAtOnce() {
        #expect(
            hex(RouteNetlink.createLinkFrame(sequence: 8, name: "br0", kind: .bridge(forwardDelay: 0)))
                == hex(
                    bytes(
                        """
                        44000000 1000 0506 08000000 00000000
                        00 00 0000 00000000 00000000 00000000
                        0800 0300 627230 00
                        1c00 1280
                          0a00 0100 627269646765 0000
                          0c00 0280
                            0800 0100 00000000
                        """)))
    }

    @Test func createBondCarriesModeOptionsAndNestedTargets() {
        let frame = RouteNetlink.createLinkFrame(
            sequence: 9, name: "bond0",
            kind: .bond([
                .u8(BondAttribute.mode, 1), .u32(3, 100),
                .ipv4List(8, [IPv4Address(10, 0, 0, 1), IPv4Address(10, 0, 0, 2)]),
            ]))
        #expect(
            hex(frame)
                == hex(
                    bytes(
                        """
                        60000000 1000 0506 09000000 00000000
                        00 00 0000 00000000 00000000 00000000
                        0a00 0300 626f6e6430 00 0000
                        3400 1280
                          0800 0100 626f6e64
                          2800 0280
                            0500 0100 01 000000
                            0800 0300 64000000
                            1400 0880
                              0800 0000 0a000001
                              0800 0100 0a000002
                        """)))
    }

    @Test func enslaveSetsIflaMaster() {
        #expect(
            hex(RouteNetlink.setMasterFrame(sequence: 4, index: 3, masterIndex: 7))
                == hex(
                    bytes(
                        "28000000 1000 0500 04000000 00000000  00 00 0000 03000000 00000000 00000000  0800 0a00 07000000"
                    )))
    }

    @Test func changeBondDataOnAnExistingLink() {
        #expect(
            hex(RouteNetlink.changeLinkDataFrame(sequence: 5, index: 7, kind: "bond", data: [.u32(11, 3)]))
                == hex(
                    bytes(
                        """
                        38000000 1000 0500 05000000 00000000
                        00 00 0000 07000000 00000000 00000000
                        1800 1280
                          0800 0100 626f6e64
                          0c00 0280
                            0800 0b00 03000000
                        """)))
    }

    @Test func deleteLinkIsAnIfinfomsgForTheIndex() {
        #expect(
            hex(RouteNetlink.deleteLinkFrame(sequence: 6, index: 9))
                == hex(bytes("20000000 1100 0500 06000000 00000000  00 00 0000 09000000 00000000 00000000")))
    }

    @Test func linkParseReadsMasterAndKind() throws {
        // RTM_NEWLINK payload: eth1, index 4, enslaved to index 7, IFLA_LINKINFO { IFLA_INFO_KIND "veth" }.
        let payload = bytes(
            """
            00 00 0100 04000000 03100100 00000000
            0900 0300 65746831 00 000000
            0800 0a00 07000000
            0c00 1200 0800 0100 76657468
            """)
        let link = try #require(NetworkLink.parse(payload: payload))
        #expect(link.name == "eth1")
        #expect(link.masterIndex == 7)
        #expect(link.kind == "veth")
        // Without the attributes: no master, no kind (plain hardware).
        let plain = try #require(NetworkLink.parse(payload: Array(payload.prefix(28))))
        #expect(plain.masterIndex == nil)
        #expect(plain.kind == nil)
    }

    @Test func createRefusesBadNamesBeforeTheKernel() {
        let netlink = RouteNetlink(transport: ScriptedNetlink(replies: []))
        #expect(throws: RouteNetlink.Error.invalidLinkName("bond/0")) {
            try netlink.createLink(name: "bond/0", kind: .bridge(forwardDelay: 0))
        }
    }

    @Test func createReportsTheKernelsRefusal() {
        // EEXIST (-17) for sequence 1.
        let transport = ScriptedNetlink(replies: [Canned.ack(sequence: 1, error: "efffffff")])
        let netlink = RouteNetlink(transport: transport)
        do {
            try netlink.createLink(name: "br0", kind: .bridge(forwardDelay: 0))
            Issue.record("accepted")
        } catch {
            #expect(error.isAlreadyExists)
            #expect("\(error)".hasPrefix("netlink: create bridge br0: file exists (errno 17)"))
        }
    }
}
