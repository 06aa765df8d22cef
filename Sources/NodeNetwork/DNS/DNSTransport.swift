import NodeSys

/// How queries reach a server: real sockets, or a scripted fake in tests.
public protocol DNSTransport: AnyObject {
    /// Sends `query` over UDP and returns the first datagram `accept` takes, or nil at `deadline`.
    func exchangeUDP(
        query: [UInt8], server: SocketAddress, deadline: ContinuousClock.Instant, accept: ([UInt8]) -> Bool
    ) throws(Resolver.TransportError) -> [UInt8]?
    /// Sends `query` over TCP (two-byte length prefix, RFC 1035 section 4.2.2) and returns the reply.
    func exchangeTCP(query: [UInt8], server: SocketAddress, deadline: ContinuousClock.Instant) throws(Resolver
        .TransportError) -> [UInt8]
}

/// DNS over the kernel's UDP and TCP sockets.
public final class DNSSocketTransport: DNSTransport {
    public init() {}

    public func exchangeUDP(
        query: [UInt8], server: SocketAddress, deadline: ContinuousClock.Instant, accept: ([UInt8]) -> Bool
    ) throws(Resolver.TransportError) -> [UInt8]? {
        do {
            let socket = try UDPSocket(family: server.address.isV4 ? .v4 : .v6)
            defer { socket.close() }
            // connect(2): only the server's datagrams are received, and an ICMP port-unreachable shows up as
            // ECONNREFUSED instead of a silent timeout.
            try socket.connect(to: server)
            try socket.send(query)
            while let (reply, _) = try socket.receive(deadline: deadline, maximumLength: 65_535) {
                if accept(reply) { return reply }
            }
            return nil
        } catch {
            throw Resolver.TransportError(detail: "\(error)")
        }
    }

    public func exchangeTCP(
        query: [UInt8], server: SocketAddress, deadline: ContinuousClock.Instant
    ) throws(Resolver.TransportError) -> [UInt8] {
        do {
            // Each call gets what is left of the one deadline, so the exchange as a whole ends by it.
            let connection = try TCPStream.connect(
                to: server, timeoutMilliseconds: Waiting.milliseconds(until: deadline))
            defer { connection.close() }
            var framed: [UInt8] = []
            appendBigEndian(UInt16(clamping: query.count), to: &framed)
            framed.append(contentsOf: query)
            try connection.send(framed, timeoutMilliseconds: Waiting.milliseconds(until: deadline))
            let lengthBytes = try connection.receive(
                exactly: 2, timeoutMilliseconds: Waiting.milliseconds(until: deadline))
            let length = Int(lengthBytes.first ?? 0) << 8 | Int(lengthBytes.last ?? 0)
            return try connection.receive(exactly: length, timeoutMilliseconds: Waiting.milliseconds(until: deadline))
        } catch {
            throw Resolver.TransportError(detail: "\(error)")
        }
    }
}

extension IPAddress {
    var isV4: Bool {
        if case .v4 = self { return true }
        return false
    }
}
