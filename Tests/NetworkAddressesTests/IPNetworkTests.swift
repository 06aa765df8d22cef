import NetworkAddresses
import Testing

@Suite struct IPNetworkTests {
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
        let parsed = try #require(IPNetwork(range))
        let ip = try #require(IPAddress(address))
        #expect(parsed.contains(ip) == expected)
    }

    @Test(arguments: ["", "10.0.0.0/33", "10.0.0/8", "host", "::/129", "10.0.0.0/", "10.0.0.0/+8", "1.2.3.4/8/9"])
    func rejectsBadRanges(text: String) {
        #expect(IPNetwork(text) == nil)
    }
}
