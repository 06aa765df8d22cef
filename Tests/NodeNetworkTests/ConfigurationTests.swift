import NodeSys
import Testing

@testable import NodeNetwork

@Suite struct InterfaceSelectorTests {
    static func link(_ index: Int32, _ name: String, mac: String?, carrier: Bool, loopback: Bool = false) -> NetworkLink
    {
        NetworkLink(
            index: index, name: name, macAddress: mac.flatMap { MACAddress($0) },
            flags: (loopback ? NetlinkConstants.interfaceLoopback : 0)
                | (carrier ? NetlinkConstants.interfaceLowerUp : 0),
            mtu: 1500, operationalState: carrier ? .up : .down, carrier: carrier)
    }

    static let links = [
        link(1, "lo", mac: "00:00:00:00:00:00", carrier: true, loopback: true),
        link(2, "eno1", mac: "52:54:00:00:00:01", carrier: false),
        link(3, "eno2", mac: "52:54:00:00:00:02", carrier: true),
        link(4, "ib0", mac: nil, carrier: true),
    ]

    @Test(
        arguments: [
            (InterfaceSelection(bootMAC: MACAddress("52:54:00:00:00:01"), interfaceName: "eno2"), "eno1"),
            (InterfaceSelection(bootMAC: MACAddress("52-54-00-00-00-02")), "eno2"),
            (InterfaceSelection(interfaceName: "eno1"), "eno1"),
            (InterfaceSelection(), "eno2"),
            (InterfaceSelection(bootMAC: MACAddress("52:54:00:00:00:99")), nil),
            (InterfaceSelection(interfaceName: "lo"), nil),
            (InterfaceSelection(interfaceName: "eth9"), nil),
        ] as [(InterfaceSelection, String?)])
    func selectionOrder(selection: InterfaceSelection, expected: String?) {
        switch InterfaceSelector.choose(from: Self.links, selection: selection) {
        case .chosen(let link): #expect(link.name == expected)
        case .notYet: #expect(expected == nil)
        }
    }

    @Test func noCarrierAnywhereIsNotYet() {
        let links = [Self.link(2, "eno1", mac: "52:54:00:00:00:01", carrier: false)]
        #expect(InterfaceSelector.choose(from: links, selection: InterfaceSelection()) == .notYet)
    }
}

@Suite struct OutputTests {
    @Test func resolvConfListsServersOnceAndKeepsExtrasAsComments() {
        let servers = ["10.0.0.1", "10.0.0.2", "10.0.0.1", "2001:db8::53", "10.0.0.4"].compactMap { IPAddress($0) }
        #expect(
            ResolvConf.render(servers: servers, searchDomains: ["cluster.test", "bad domain"])
                == """
                # written by nodeinit
                nameserver 10.0.0.1
                nameserver 10.0.0.2
                nameserver 2001:db8::53
                # (glibc uses only three) nameserver 10.0.0.4
                search cluster.test

                """)
    }

    @Test func leaseJSONQuotesAndNulls() {
        let lease = NetworkLease(
            source: .dhcp, interfaceName: "eth0", interfaceIndex: 2, macAddress: MACAddress("52:54:00:12:34:56"),
            address: IPv4Address(10, 0, 2, 15), prefixLength: 24, gateway: IPv4Address(10, 0, 2, 2),
            dnsServers: [IPAddress("10.0.2.3")!], hostName: "n\"1", rootPath: "/srv/a\\b", leaseSeconds: 86400)
        #expect(
            lease.json
                == #"{"source":"dhcp","interface":"eth0","index":2,"mac":"52:54:00:12:34:56","address":"10.0.2.15","#
                + #""prefixLength":24,"gateway":"10.0.2.2","dnsServers":["10.0.2.3"],"hostName":"n\"1","domainName":null,"searchDomains":[],"#
                + #""rootPath":"/srv/a\\b","nextServer":null,"serverIdentifier":null,"mtu":null,"leaseSeconds":86400,"routes":[]}"#
        )
    }
}
