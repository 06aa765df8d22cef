extension TCPStream {
    /// Local ports tried by `connectFromReservedPort`, as glibc's bindresvport(3) does (600-1023; below 600
    /// are the well-known services more likely to be bound).
    public static let reservedSourcePorts: ClosedRange<UInt16> = 600...1023

    /// Connects from a reserved source port (below 1024), which only root (CAP_NET_BIND_SERVICE) can bind, so
    /// the peer knows an unprivileged user did not open the connection (NFS's `secure` option, rsh).
    /// Ports in use are skipped; `.bind(_, .permissionDenied)` means this process may not bind them.
    public static func connectFromReservedPort(
        to address: SocketAddress, from source: IPAddress? = nil, timeoutMilliseconds: Int32 = 10_000
    ) throws(Error) -> TCPStream {
        let ports = reservedSourcePorts
        let count = Int(ports.upperBound - ports.lowerBound) + 1
        let start = Int.random(in: 0..<count)
        var lastError = Error.bind(source ?? .anyIPv4, .addressInUse)
        for step in 0..<count {
            let port = ports.lowerBound + UInt16((start + step) % count)
            do {
                return try connect(
                    to: address, from: source, sourcePort: port, timeoutMilliseconds: timeoutMilliseconds)
            } catch {
                switch error {
                case .bind(_, .addressInUse), .connect(_, .addressNotAvailable), .connect(_, .addressInUse):
                    lastError = error
                    continue
                default:
                    throw error
                }
            }
        }
        throw lastError
    }
}
