/// IPv4 and IPv6 addresses as plain values, parsed strictly from text and from wire bytes: the one address type
/// of the boot plan (BootConfig), the sockets and rtnetlink (NodeSys) and the protocol code (NodeNetwork), so no
/// layer converts between address types. Pure: no libc, no I/O.

/// Either family.
public enum IPAddress: Hashable, Sendable, CustomStringConvertible {
    case v4(IPv4Address)
    case v6(IPv6Address)

    /// Accepts a dotted quad, an IPv6 literal, or an IPv6 literal in brackets (`[2001:db8::1]`).
    public init?(_ text: some StringProtocol) {
        if let v4 = IPv4Address(text) {
            self = .v4(v4)
            return
        }
        var string = Substring(text)
        if string.hasPrefix("[") && string.hasSuffix("]") && string.count >= 2 {
            string = string.dropFirst().dropLast()
        }
        guard let v6 = IPv6Address(string) else { return nil }
        self = .v6(v6)
    }

    /// From 4 or 16 network-order bytes; nil for other lengths.
    public init?(bytes: [UInt8]) {
        if let v4 = IPv4Address(bytes: bytes) {
            self = .v4(v4)
        } else if let v6 = IPv6Address(bytes: bytes) {
            self = .v6(v6)
        } else {
            return nil
        }
    }

    /// Dotted quad, or RFC 5952 compressed lowercase IPv6.
    public var description: String {
        switch self {
        case .v4(let address): address.description
        case .v6(let address): address.description
        }
    }

    /// 4 bytes for IPv4, 16 for IPv6, network order.
    public var bytes: [UInt8] {
        switch self {
        case .v4(let address): address.bytes
        case .v6(let address): address.bytes
        }
    }

    public var isIPv6: Bool { if case .v6 = self { true } else { false } }

    /// The IPv4 address, nil for IPv6.
    public var ipv4: IPv4Address? { if case .v4(let address) = self { address } else { nil } }

    /// The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, what a dual-stack
    /// listener reports for IPv4 peers); self otherwise. One identity per host for allowlists and limits.
    public var unmappedIPv4: IPAddress {
        guard case .v6(let address) = self, address.high == 0, address.low >> 32 == 0xffff else { return self }
        return .v4(IPv4Address(value: UInt32(truncatingIfNeeded: address.low)))
    }

    public static let anyIPv4 = IPAddress.v4(.any)
    public static let anyIPv6 = IPAddress.v6(IPv6Address(high: 0, low: 0))
}

/// IPv4 before IPv6, then by bytes: a stable order for plans and allowlists.
extension IPAddress: Comparable {
    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        let left = lhs.bytes, right = rhs.bytes
        if left.count != right.count { return left.count < right.count }
        return left.lexicographicallyPrecedes(right)
    }
}
