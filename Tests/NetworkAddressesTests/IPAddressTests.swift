import Testing

@testable import NetworkAddresses

@Suite struct IPAddressTests {
    @Test(
        arguments: [
            ("10.0.2.15", "10.0.2.15"), ("0.0.0.0", "0.0.0.0"), ("255.255.255.255", "255.255.255.255"),
            ("1.2.3.04", nil), ("256.1.1.1", nil), ("1.2.3", nil), ("1.2.3.4.5", nil), ("1..2.3", nil), ("", nil),
            (" 1.2.3.4", nil), ("1.2.3.4 ", nil), ("a.b.c.d", nil), ("1.2.3.-4", nil), ("1.2.3.٤", nil),
        ] as [(String, String?)])
    func ipv4Parsing(text: String, expected: String?) {
        #expect(IPv4Address(text)?.description == expected)
    }

    @Test(
        arguments: [
            ("2001:db8::1", "2001:db8::1"), ("::", "::"), ("::1", "::1"), ("fe80::1:2", "fe80::1:2"),
            ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"), ("::ffff:10.0.0.1", "::ffff:a00:1"),
            ("1:0:0:1:0:0:0:1", "1:0:0:1::1"),
            ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"), ("1::2::3", nil), ("12345::", nil), (":::", nil),
            ("1:2:3:4:5:6:7", nil),
            ("g::1", nil), ("", nil), ("1:2:3:4:5:6:7:8:9", nil),
        ] as [(String, String?)])
    func ipv6Parsing(text: String, expected: String?) {
        #expect(IPv6Address(text)?.description == expected)
    }

    @Test func bracketedIPv6IsAnIPAddress() {
        #expect(IPAddress("[2001:db8::5]") == .v6(IPv6Address("2001:db8::5")!))
        #expect(IPAddress("10.1.1.1") == .v4(IPv4Address(10, 1, 1, 1)))
        #expect(IPAddress("cnfs") == nil)
    }

    @Test(
        arguments: [
            ("255.255.255.0", 24), ("255.255.255.255", 32), ("0.0.0.0", 0), ("255.0.255.0", nil), ("255.255.254.0", 23),
        ]
            as [(String, Int?)])
    func netmaskPrefixLength(mask: String, prefix: Int?) {
        #expect(IPv4Address(mask)?.prefixLengthIfNetmask == prefix)
        if let prefix { #expect(IPv4Address.netmask(prefixLength: prefix).description == mask) }
    }

    @Test(
        arguments: [
            ("52:54:00:12:34:56", "52:54:00:12:34:56"), ("52-54-00-AB-cd-EF", "52:54:00:ab:cd:ef"),
            ("52:54:00:12:34", nil),
            ("52:54:00:12:34:5", nil), ("52:54:00:12:34:567", nil), ("zz:54:00:12:34:56", nil),
        ] as [(String, String?)])
    func macParsing(text: String, expected: String?) {
        #expect(MACAddress(text)?.description == expected)
    }

    /// Linux's EUI-64 link-local addresses (`addr_gen_mode` 0), as `ip -6 addr` shows them for these MACs.
    @Test(
        arguments: [
            ("52:54:00:12:34:56", "fe80::5054:ff:fe12:3456"),  // QEMU's default NIC
            ("02:42:ac:11:00:02", "fe80::42:acff:fe11:2"),  // a Docker container: the local bit set, then cleared
            ("00:00:00:00:00:00", "fe80::200:ff:fe00:0"),
            ("ff:ff:ff:ff:ff:ff", "fe80::fdff:ffff:feff:ffff"),
        ] as [(String, String)])
    func linkLocalFromAMAC(mac: String, expected: String) throws {
        let parsed = try #require(MACAddress(mac))
        let address = try #require(IPv6Address.linkLocal(modifiedEUI64Of: parsed))
        #expect(address.description == expected)
    }

    @Test func linkLocalNeedsASixByteAddress() {
        #expect(IPv6Address.linkLocal(modifiedEUI64Of: MACAddress(bytes: Array(repeating: 0x11, count: 20))) == nil)
        #expect(IPv6Address.linkLocal(modifiedEUI64Of: MACAddress(bytes: [1, 2, 3])) == nil)
    }
}
