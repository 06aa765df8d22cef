import NodeSys

/// Who may use the agent: an allowlist of address ranges and, optionally, a bearer token. Without a token,
/// a connection must also come from a reserved source port (below 1024), which only root on the client
/// host can bind: an unprivileged user on the boot server cannot pull (see docs/node-save-trust.md).
public struct AccessPolicy: Sendable {
    public enum Decision: Equatable, Sendable {
        case allowed
        /// Refused, with the reason for the log (never sent to the client).
        case denied(String)
    }

    public var allowlist: [IPNetwork]
    public var token: BearerToken?
    /// Connections from ports 1024 and up are refused at accept. Default: on when there is no token.
    public var requireReservedPort: Bool

    public init(allowlist: [IPNetwork], token: BearerToken?, requireReservedPort: Bool? = nil) {
        self.allowlist = allowlist
        self.token = token
        self.requireReservedPort = requireReservedPort ?? (token == nil)
    }

    /// The check made at accept, before anything is read: address, then source port.
    public func admit(_ peer: SocketAddress) -> Decision {
        let address = peer.address.unmappedIPv4
        guard allowlist.contains(where: { $0.contains(address) }) else {
            return .denied("address \(address) is not in the allowlist")
        }
        if requireReservedPort && peer.port >= 1024 {
            return .denied("source port \(peer.port) is not reserved (below 1024) and no token is configured")
        }
        return .allowed
    }

    /// Checks the peer address first (cheap, and says nothing about tokens to strangers), then the token.
    public func decide(peer: IPAddress, authorization: [String]) -> Decision {
        guard allowlist.contains(where: { $0.contains(peer) }) else {
            return .denied("address \(peer.unmappedIPv4) is not in the allowlist")
        }
        guard let token else { return .allowed }
        guard authorization.count <= 1 else { return .denied("more than one Authorization header") }
        guard let header = authorization.first else { return .denied("no bearer token") }
        guard let presented = BearerToken.parseAuthorization(header) else {
            return .denied("authorization is not a bearer token")
        }
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
    /// much of a guess was right. Only the length (not secret enough to matter) leaks. A length
    /// difference is a difference of its own, never folded into a byte (a count truncated to 8 bits
    /// would let the token plus any multiple of 256 extra bytes through).
    func matches(_ presented: [UInt8]) -> Bool {
        var difference: UInt8 = bytes.count == presented.count ? 0 : 1
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
    /// `package`: NodeSaveClient checks host names with it.
    package var isASCIIAlphanumeric: Bool {
        (self >= 48 && self <= 57) || (self >= 65 && self <= 90) || (self >= 97 && self <= 122)
    }
}
