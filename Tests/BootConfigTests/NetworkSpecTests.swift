import Testing

@testable import BootConfig

struct IPCase: CustomStringConvertible, Sendable {
    var value: String
    var device: String?
    var method: AddressMethod
    var hostname: String? = nil
    var mtu: Int? = nil
    var mac: String? = nil
    var dns: [String] = []
    var description: String { "ip=\(value)" }
}

func address(_ text: String) -> IPAddress {
    IPAddress(text) ?? .anyIPv4
}

@Suite struct NetworkSpecTests {
    static let cases: [IPCase] = [
        IPCase(value: "dhcp", device: nil, method: .dhcp),
        IPCase(value: "on", device: nil, method: .dhcp),
        IPCase(value: "single-dhcp", device: nil, method: .dhcp),
        IPCase(value: "dhcp6", device: nil, method: .dhcp6),
        IPCase(value: "off", device: nil, method: .unmanaged),
        IPCase(value: "eth0:dhcp", device: "eth0", method: .dhcp),
        IPCase(value: "enp1s0:auto6", device: "enp1s0", method: .auto6),
        IPCase(value: "eth0:dhcp:9000", device: "eth0", method: .dhcp, mtu: 9000),
        IPCase(value: "eth0:dhcp::52:54:00:AB:CD:EF", device: "eth0", method: .dhcp, mac: "52:54:00:ab:cd:ef"),
        IPCase(
            value: "eth0:dhcp:1500:52:54:00:ab:cd:ef", device: "eth0", method: .dhcp, mtu: 1500,
            mac: "52:54:00:ab:cd:ef"),
        IPCase(
            value: "192.168.152.10:192.168.152.1:192.168.152.1:255.255.255.0:rpi-sw4::off", device: nil,
            method: .static(
                StaticAddress(
                    address: address("192.168.152.10"), prefixLength: 24, gateway: address("192.168.152.1"),
                    peer: address("192.168.152.1"))),
            hostname: "rpi-sw4"),
        IPCase(
            value: "10.0.0.5::10.0.0.1:255.255.0.0:cn5:eth1:none:10.0.0.53:10.0.0.54", device: "eth1",
            method: .static(
                StaticAddress(address: address("10.0.0.5"), prefixLength: 16, gateway: address("10.0.0.1"), peer: nil)),
            hostname: "cn5", dns: ["10.0.0.53", "10.0.0.54"]),
        IPCase(
            value: "10.0.0.5::10.0.0.1:24::eth1:none:9000", device: "eth1",
            method: .static(
                StaticAddress(address: address("10.0.0.5"), prefixLength: 24, gateway: address("10.0.0.1"), peer: nil)),
            mtu: 9000),
        IPCase(
            value: "10.0.0.5:::255.255.255.128::eth1:none::52:54:00:00:00:01", device: "eth1",
            method: .static(StaticAddress(address: address("10.0.0.5"), prefixLength: 25, gateway: nil, peer: nil)),
            mac: "52:54:00:00:00:01"),
        IPCase(
            value: "[2001:db8::5]::[2001:db8::1]:64:v6node:eth0:none", device: "eth0",
            method: .static(
                StaticAddress(
                    address: address("2001:db8::5"), prefixLength: 64, gateway: address("2001:db8::1"), peer: nil)),
            hostname: "v6node"),
        IPCase(value: ":::::eth2:dhcp", device: "eth2", method: .dhcp),
        IPCase(
            value: "10.1.0.2:10.1.0.1:10.1.0.1:255.255.255.0:::", device: nil,
            method: .static(
                StaticAddress(
                    address: address("10.1.0.2"), prefixLength: 24, gateway: address("10.1.0.1"),
                    peer: address("10.1.0.1")))),
    ]

    @Test(arguments: cases)
    func parsesIP(_ testCase: IPCase) throws {
        var warnings: [String] = []
        let parsed = try NetworkSpec.parseIP(testCase.value, warnings: &warnings)
        #expect(parsed.device == testCase.device)
        #expect(parsed.method == testCase.method)
        #expect(parsed.hostname == testCase.hostname)
        #expect(parsed.mtu == testCase.mtu)
        #expect(parsed.mac?.description == testCase.mac)
        #expect(parsed.nameservers.map(\.description) == testCase.dns)
    }

    @Test func selectionPrefersIpDeviceThenNetdevThenBootif() throws {
        func selectors(_ line: String) throws -> [InterfaceSelector] {
            try BootPlanner.plan(BootInputs(commandLine: KernelCommandLine("root=nfs:a:/b " + line))).network.interfaces
                .map(\.selector)
        }
        #expect(try selectors("BOOTIF=01-52-54-00-12-34-56") == [.mac(testMAC("52:54:00:12:34:56"))])
        #expect(try selectors("BOOTIF=01-52-54-00-12-34-56 netdev=ib0") == [.name("ib0")])
        #expect(try selectors("BOOTIF=52:54:00:12:34:56 ip=eth3:dhcp") == [.name("eth3")])
        #expect(try selectors("ip=dhcp") == [.anyWithCarrier])
        #expect(try selectors("") == [.anyWithCarrier])
    }

    /// Several ip=: every one is configured, the bootdev= one first (it carries the root server and default route).
    @Test func severalInterfacesBootDeviceFirst() throws {
        func plan(_ line: String) throws -> NetworkPlan {
            try BootPlanner.plan(BootInputs(commandLine: KernelCommandLine("root=nfs:a:/b " + line))).network
        }
        let inOrder = try plan("ip=eth0:dhcp ip=10.1.0.5::10.1.0.1:255.255.0.0::ib0:none")
        #expect(inOrder.interfaces.map(\.selector) == [.name("eth0"), .name("ib0")])
        let bootLast = try plan("ip=ib0:dhcp ip=eth0:dhcp bootdev=eth0")
        #expect(bootLast.interfaces.map(\.selector) == [.name("eth0"), .name("ib0")])
        #expect(bootLast.interfaces.map(\.origin) == ["ip=eth0:dhcp", "ip=ib0:dhcp"])
        // One unnamed ip= among named ones is the boot NIC chosen at run time.
        #expect(try plan("ip=dhcp ip=ib0:dhcp").interfaces.map(\.selector) == [.anyWithCarrier, .name("ib0")])
        let rendered = try BootPlanner.plan(
            BootInputs(commandLine: KernelCommandLine("root=nfs:a:/b ip=ib0:dhcp ip=eth0:dhcp bootdev=eth0"))
        ).renderText()
        #expect(rendered.contains("eth0: DHCPv4, boot interface  (ip=eth0:dhcp)"))
        #expect(
            rendered.contains(
                "ib0: DHCPv4, after the boot interface, no default route, failure only warns  (ip=ib0:dhcp)"))
    }

    @Test func severalUnnamedInterfacesAreRefused() {
        let error = #expect(throws: ParameterError.self) {
            try BootPlanner.plan(BootInputs(commandLine: KernelCommandLine("root=nfs:a:/b ip=dhcp ip=on")))
        }
        #expect(
            error?.description
                == "ip=\"on\": with several ip= parameters, name the interface in each (ip=<if>:dhcp or client:peer:gw:mask:host:<if>:none); 2 do not"
        )
    }

    @Test func namesRoutesAndNameservers() throws {
        let plan = try BootPlanner.plan(
            BootInputs(
                commandLine: KernelCommandLine(
                    "root=nfs:a:/b ifname=boot0:52:54:00:12:34:56 nameserver=10.0.0.53 nameserver=[2001:db8::53] "
                        + "rd.route=192.168.0.0/16:10.0.0.1:boot0 rd.route=[2001:db8:1::]/48:[2001:db8::1] rd.peerdns=0 rd.neednet=1"
                )))
        #expect(plan.network.interfaceNames == [InterfaceName(name: "boot0", mac: testMAC("52:54:00:12:34:56"))])
        #expect(plan.network.nameservers.map(\.description) == ["10.0.0.53", "2001:db8::53"])
        #expect(
            plan.network.routes.map { "\($0.destination) via \($0.gateway?.description ?? "-") \($0.interface ?? "-")" }
                == ["192.168.0.0/16 via 10.0.0.1 boot0", "2001:db8:1::/48 via 2001:db8::1 -"])
        #expect(plan.network.ignoreDHCPNameservers)
        #expect(plan.network.required)
    }

    /// dracut.cmdline(7)'s rd.route examples, each accepted; the gateway-less one is an on-link route.
    @Test(
        arguments: [
            ("rd.route=192.168.200.0/24:192.168.100.222:ens10", "192.168.200.0/24", "192.168.100.222", "ens10"),
            ("rd.route=192.168.200.0/24:192.168.100.222", "192.168.200.0/24", "192.168.100.222", nil),
            ("rd.route=192.168.200.0/24::ens10", "192.168.200.0/24", nil, "ens10"),
            ("rd.route=[2001:DB8:3::/8]:[2001:DB8:2::1]:ens10", "2001:db8:3::/8", "2001:db8:2::1", "ens10"),
            ("rd.route=10.20.0.0/255.255.0.0:", "10.20.0.0/16", nil, nil),
        ] as [(String, String, String?, String?)])
    func dracutRouteExamples(_ parameter: String, destination: String, gateway: String?, interface: String?) throws {
        let plan = try BootPlanner.plan(BootInputs(commandLine: KernelCommandLine("root=nfs:a:/b " + parameter)))
        #expect(plan.network.routes.count == 1)
        let route = plan.network.routes.first
        #expect(route?.destination.description == destination)
        #expect(route?.gateway?.description == gateway)
        #expect(route?.interface == interface)
    }

    @Test func onLinkRoutesRenderWithoutAGateway() throws {
        let plan = try BootPlanner.plan(
            BootInputs(commandLine: KernelCommandLine("root=nfs:a:/b rd.route=192.168.200.0/24::ens10")))
        #expect(plan.renderText().contains("route 192.168.200.0/24 on-link dev ens10"))
    }

    @Test(arguments: [
        ("192.168.1.1", "192.168.1.1"), ("[2001:DB8:0:0:0:0:0:1]", "2001:db8::1"), ("::", "::"),
        ("::ffff:10.0.0.1", "::ffff:a00:1"), ("fe80::1:0:0:1", "fe80::1:0:0:1"), ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
    ])
    func addressesAreCanonical(_ input: String, _ expected: String) {
        #expect(IPAddress(input)?.description == expected)
    }

    @Test(arguments: [
        "256.1.1.1", "1.2.3", "1.2.3.4.5", "01234.1.1.1", "1::2::3", "1:2:3:4:5:6:7:8:9", "g::1", "", "[::1",
        "1.2.3.-4",
    ])
    func rejectsBadAddresses(_ input: String) {
        #expect(IPAddress(input) == nil)
    }
}

/// A MAC address the test writes as text (a typo fails the test, never traps).
func testMAC(_ text: String) -> MACAddress {
    MACAddress(text) ?? MACAddress(bytes: [])
}
