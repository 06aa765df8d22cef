/// What the agent's allowlist and per-client limits need from `IPAddress` (defined in Sockets/).
extension IPAddress {
    /// 4 bytes for IPv4, 16 for IPv6, network order.
    public var networkBytes: [UInt8] {
        switch self {
        case .v4(let address): address.bytes
        case .v6(let address): address.bytes
        }
    }

    /// From 4 or 16 network-order bytes; nil for other lengths.
    public init?(networkBytes bytes: [UInt8]) {
        if let v4 = IPv4Address(bytes: bytes) {
            self = .v4(v4)
        } else if let v6 = IPv6Address(bytes: bytes) {
            self = .v6(v6)
        } else {
            return nil
        }
    }

    public var isIPv6: Bool { if case .v6 = self { true } else { false } }

    /// The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, what a dual-stack
    /// listener reports for IPv4 peers); self otherwise. One identity per host for allowlists and limits.
    public var unmappedIPv4: IPAddress {
        guard case .v6(let address) = self, address.high == 0, address.low >> 32 == 0xffff else { return self }
        return .v4(IPv4Address(value: UInt32(truncatingIfNeeded: address.low)))
    }

    public static let anyIPv4 = IPAddress.v4(.any)
    public static let anyIPv6 = IPAddress.v6(IPv6Address(high: 0, low: 0))
}
