import NodeSys

/// An address block: "192.0.2.0/24", "2001:db8::/32", or a single address (full-length prefix).
public struct AddressRange: Hashable, Sendable, CustomStringConvertible {
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case invalid(String)
        public var description: String {
            switch self {
            case .invalid(let text): "invalid address or CIDR block \"\(text)\" (expected e.g. 192.0.2.1, 192.0.2.0/24, 2001:db8::/32)"
            }
        }
    }

    public let network: IPAddress
    public let prefixLength: Int

    public init(_ text: String) throws(Error) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2, let address = IPAddress(String(parts[0])) else { throw .invalid(text) }
        let bits = address.networkBytes.count * 8
        var length = bits
        if parts.count == 2 {
            guard let value = Int(parts[1]), parts[1].allSatisfy(\.isWholeNumber), parts[1].allSatisfy(\.isASCII), (0...bits).contains(value) else { throw .invalid(text) }
            length = value
        }
        self.init(network: address, prefixLength: length)
    }

    public init(network: IPAddress, prefixLength: Int) {
        // Stored unmapped and masked, so "::ffff:10.0.0.1" and "10.0.0.1" are the same range.
        let address = network.unmappedIPv4
        let bits = address.networkBytes.count * 8
        var adjusted = prefixLength
        if network.isIPv6 && !address.isIPv6 { adjusted = max(0, prefixLength - 96) }
        self.prefixLength = min(max(0, adjusted), bits)
        self.network = IPAddress(networkBytes: AddressRange.mask(address.networkBytes, self.prefixLength)) ?? address
    }

    public func contains(_ address: IPAddress) -> Bool {
        let candidate = address.unmappedIPv4
        guard candidate.isIPv6 == network.isIPv6 else { return false }
        return AddressRange.mask(candidate.networkBytes, prefixLength) == network.networkBytes
    }

    public var description: String { "\(network)/\(prefixLength)" }

    private static func mask(_ bytes: [UInt8], _ prefixLength: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let bitsHere = min(8, max(0, prefixLength - index * 8))
            let mask: UInt8 = bitsHere == 0 ? 0 : UInt8(truncatingIfNeeded: 0xff << (8 - bitsHere))
            return byte & mask
        }
    }
}

/// Who may use the agent: an allowlist of address ranges and, optionally, a bearer token.
public struct AccessPolicy: Sendable {
    public enum Decision: Equatable, Sendable {
        case allowed
        /// Refused, with the reason for the log (never sent to the client).
        case denied(String)
    }

    public var allowlist: [AddressRange]
    public var token: BearerToken?

    public init(allowlist: [AddressRange], token: BearerToken?) {
        self.allowlist = allowlist
        self.token = token
    }

    /// Checks the peer address first (cheap, and says nothing about tokens to strangers), then the token.
    public func decide(peer: IPAddress, authorization: [String]) -> Decision {
        guard allowlist.contains(where: { $0.contains(peer) }) else {
            return .denied("address \(peer.unmappedIPv4) is not in the allowlist")
        }
        guard let token else { return .allowed }
        guard authorization.count <= 1 else { return .denied("more than one Authorization header") }
        guard let header = authorization.first else { return .denied("no bearer token") }
        guard let presented = BearerToken.parseAuthorization(header) else { return .denied("authorization is not a bearer token") }
        return token.matches(presented) ? .allowed : .denied("wrong bearer token")
    }
}

/// A secret shared with the server; compared in constant time.
public struct BearerToken: Sendable {
    let bytes: [UInt8]

    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        // RFC 6750 token68 characters: what can travel in the header unchanged.
        let allowed = Array("-._~+/=".utf8)
        guard !bytes.isEmpty, bytes.allSatisfy({ $0.isASCIIAlphanumeric || allowed.contains($0) }) else { return nil }
        self.bytes = bytes
    }

    /// The credentials in "Bearer <token>" (scheme case-insensitive), as raw bytes.
    static func parseAuthorization(_ header: String) -> [UInt8]? {
        let bytes = Array(header.utf8)
        let scheme = Array("bearer ".utf8)
        guard bytes.count > scheme.count else { return nil }
        let lowered = bytes.prefix(scheme.count).map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
        guard lowered == scheme else { return nil }
        return Array(bytes.dropFirst(scheme.count))
    }

    /// Compares every byte whatever the first difference, so response timing does not reveal how
    /// much of a guess was right. Only the length (not secret enough to matter) leaks.
    func matches(_ presented: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: bytes.count ^ presented.count)
        for index in 0..<bytes.count {
            let other = index < presented.count ? presented[index] : 0
            difference |= bytes[index] ^ other
        }
        return difference == 0
    }

    /// The header value a client sends.
    public var authorizationValue: String { "Bearer " + String(decoding: bytes, as: UTF8.self) }
}

extension UInt8 {
    var isASCIIAlphanumeric: Bool {
        (self >= 48 && self <= 57) || (self >= 65 && self <= 90) || (self >= 97 && self <= 122)
    }
}
