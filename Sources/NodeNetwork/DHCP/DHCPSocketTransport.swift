import NodeSys

/// DHCP over a plain UDP socket rather than AF_PACKET.
///
/// Why this works before the interface has an address (Linux): the socket is bound to 0.0.0.0:68 and to the device
/// with SO_BINDTODEVICE, so a send to 255.255.255.255 is routed out of that device without any route or address
/// (source 0.0.0.0), and SO_BROADCAST permits the limited broadcast. Every request sets the BOOTP broadcast flag, so
/// servers broadcast their OFFER/ACK; the kernel delivers limited broadcasts to a socket bound to the device even
/// with no address configured, whereas a unicast reply to the offered address would be dropped. Reverse-path
/// filtering must be off or loose on that interface (the kernel default, rp_filter=0, in an initramfs). This avoids
/// building IP and UDP headers and checksums by hand, and needs no packet filter.
public final class DHCPSocketTransport: DHCPTransport {
    private let socket: UDPSocket
    private let interfaceName: String

    public init(interfaceName: String) throws(DHCPClient.Error) {
        self.interfaceName = interfaceName
        do {
            socket = try UDPSocket(family: .v4)
            try socket.enableAddressReuse()
            try socket.enableBroadcast()
            try socket.bind(toDevice: interfaceName)
            try socket.bind(to: .v4(.any, port: 68))
        } catch {
            throw .transport(interface: interfaceName, detail: "\(error)")
        }
    }

    public func close() { socket.close() }

    public func broadcast(_ message: [UInt8]) throws(DHCPClient.Error) {
        do {
            try socket.send(message, to: .v4(.broadcast, port: 67))
        } catch {
            throw .transport(interface: interfaceName, detail: "\(error)")
        }
    }

    public func receive(deadline: ContinuousClock.Instant) throws(DHCPClient.Error) -> [UInt8]? {
        do {
            return try socket.receive(deadline: deadline, maximumLength: 4096)?.bytes
        } catch {
            throw .transport(interface: interfaceName, detail: "\(error)")
        }
    }
}
