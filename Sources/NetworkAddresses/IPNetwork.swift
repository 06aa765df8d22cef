/// An address with a prefix length, e.g. a route destination `10.0.0.0/8` or an allow-list entry.
public struct IPNetwork: Hashable, Codable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    /// 0...32 for IPv4, 0...128 for IPv6.
    public var prefixLength: Int

    public init(address: IPAddress, prefixLength: Int) {
        self.address = address
        self.prefixLength = prefixLength
    }

    /// Parses `addr/len`, `[v6]/len`, or a bare address (full-length prefix). The length is plain decimal
    /// without a sign or leading zeros.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = parts.first.flatMap({ IPAddress($0) }) else { return nil }
        let maximum = address.isIPv6 ? 128 : 32
        guard parts.count == 2 else {
            self.init(address: address, prefixLength: maximum)
            return
        }
        let lengthText = parts[1]
        guard (1...3).contains(lengthText.utf8.count), lengthText.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
            lengthText == "0" || !lengthText.hasPrefix("0"), let length = Int(lengthText), length <= maximum
        else { return nil }
        self.init(address: address, prefixLength: length)
    }

    public var description: String { "\(address)/\(prefixLength)" }

    /// Whether `candidate` lies in this block. IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`, as a dual-stack
    /// listener reports IPv4 peers) count as their IPv4 address on either side, so an allowlist entry and a peer
    /// match whichever way they were written.
    public func contains(_ candidate: IPAddress) -> Bool {
        let network = address.unmappedIPv4
        // A mapped block keeps its meaning: ::ffff:10.0.0.0/104 is 10.0.0.0/8.
        let length = address.isIPv6 && !network.isIPv6 ? max(0, prefixLength - 96) : prefixLength
        let other = candidate.unmappedIPv4
        guard other.isIPv6 == network.isIPv6 else { return false }
        return Self.mask(other.bytes, length) == Self.mask(network.bytes, length)
    }

    private static func mask(_ bytes: [UInt8], _ prefixLength: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let bitsHere = min(8, max(0, prefixLength - index * 8))
            return bitsHere == 0 ? 0 : byte & UInt8(truncatingIfNeeded: 0xff << (8 - bitsHere))
        }
    }

    /// The prefix length of a dotted IPv4 netmask (`255.255.255.0` gives 24); nil if not contiguous or IPv6.
    public static func prefixLength(ofNetmask mask: IPAddress) -> Int? {
        guard case .v4(let v4) = mask else { return nil }
        return v4.prefixLengthIfNetmask
    }
}
