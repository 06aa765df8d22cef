extension TCPStream {
    /// Local ports tried by `connectFromReservedPort`, as glibc's bindresvport(3) does (600-1023; below 600
    /// are the well-known services more likely to be bound).
    public static let reservedSourcePorts: ClosedRange<UInt16> = 600...1023

    /// Connects from a reserved source port (below 1024), which only root (CAP_NET_BIND_SERVICE) can bind, so
    /// the peer knows an unprivileged user did not open the connection (NFS's `secure` option, rsh).
    /// Ports in use are skipped; `.bind(_, .permissionDenied)` means this process may not bind them.
    ///
    /// The socket gets SO_REUSEADDR: about half of an agent's connections end with this side in TIME_WAIT
    /// (60 s on Linux), and without it each of those keeps its port from being bound at all, so pulling a few
    /// hundred nodes within a minute would run out of the 424 ports. With it, a port in TIME_WAIT is bound
    /// again, and only a connection to the very same agent address and port is refused (EADDRNOTAVAIL: the
    /// 4-tuple is taken), which moves on to the next port like a port in use. Parallel connections may then
    /// bind the same port at once; the kernel gives each a distinct 4-tuple or refuses the connect, never both.
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
                    to: address, from: source, sourcePort: port, reuseAddress: true,
                    timeoutMilliseconds: timeoutMilliseconds)
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
