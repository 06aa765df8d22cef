import Glibc

/// An IP address and a port, converted to and from `sockaddr_in`/`sockaddr_in6` only inside closures.
public enum SocketAddress: Hashable, Sendable, CustomStringConvertible {
    case v4(IPv4Address, port: UInt16)
    case v6(IPv6Address, port: UInt16)

    public init(_ address: IPAddress, port: UInt16) {
        switch address {
        case .v4(let v4): self = .v4(v4, port: port)
        case .v6(let v6): self = .v6(v6, port: port)
        }
    }

    public var address: IPAddress {
        switch self {
        case .v4(let address, _): .v4(address)
        case .v6(let address, _): .v6(address)
        }
    }

    public var port: UInt16 {
        switch self {
        case .v4(_, let port), .v6(_, let port): port
        }
    }

    var family: Int32 {
        switch self {
        case .v4: AF_INET
        case .v6: AF_INET6
        }
    }

    public var description: String {
        switch self {
        case .v4(let address, let port): "\(address):\(port)"
        case .v6(let address, let port): "[\(address)]:\(port)"
        }
    }

    func withSockaddr<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
        switch self {
        case .v4(let address, let port):
            var storage = sockaddr_in()
            storage.sin_family = sa_family_t(AF_INET)
            storage.sin_port = port.bigEndian
            storage.sin_addr.s_addr = address.value.bigEndian
            return withUnsafePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    body($0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        case .v6(let address, let port):
            var storage = sockaddr_in6()
            storage.sin6_family = sa_family_t(AF_INET6)
            storage.sin6_port = port.bigEndian
            let bytes = address.bytes
            withUnsafeMutableBytes(of: &storage.sin6_addr) { raw in
                for (index, byte) in bytes.enumerated() where index < raw.count { raw[index] = byte }
            }
            return withUnsafePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    body($0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        }
    }

    /// Decodes what recvfrom(2) filled in; nil for families other than IPv4/IPv6.
    static func from(storage: sockaddr_storage) -> SocketAddress? {
        var copy = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafeBytes(of: &copy) { raw -> SocketAddress? in
                let inet = raw.loadUnaligned(as: sockaddr_in.self)
                return .v4(
                    IPv4Address(value: UInt32(bigEndian: inet.sin_addr.s_addr)), port: UInt16(bigEndian: inet.sin_port))
            }
        case AF_INET6:
            return withUnsafeBytes(of: &copy) { raw -> SocketAddress? in
                var inet6 = raw.loadUnaligned(as: sockaddr_in6.self)
                let bytes = withUnsafeBytes(of: &inet6.sin6_addr) { Array($0) }
                guard let address = IPv6Address(bytes: bytes) else { return nil }
                return .v6(address, port: UInt16(bigEndian: inet6.sin6_port))
            }
        default:
            return nil
        }
    }
}
