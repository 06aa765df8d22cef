import Glibc
import SystemPackage

/// A UDP socket (IPv4 or IPv6) with bounded-time receives. The descriptor is closed on `close()` or deinit.
public final class UDPSocket {
    public enum Error: Swift.Error, Hashable, Sendable, CustomStringConvertible {
        case system(SocketSystemError)
        case interfaceNameTooLong(String)

        public var description: String {
            switch self {
            case .system(let error): "udp socket: \(error)"
            case .interfaceNameTooLong(let name): "udp socket: interface name '\(name)' is longer than 15 bytes"
            }
        }
    }

    public enum Family: Sendable { case v4, v6 }

    /// -1 once closed, so a later call fails with EBADF instead of reaching a descriptor number reused since.
    public private(set) var fd: FileDescriptor

    public init(family: Family) throws(Error) {
        let domain = family == .v4 ? AF_INET : AF_INET6
        let fd = socket(domain, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(IPPROTO_UDP))
        guard fd >= 0 else { throw .system(.last("socket(udp)")) }
        self.fd = FileDescriptor(rawValue: fd)
    }

    deinit { close() }

    public func close() {
        if fd.rawValue >= 0 {
            try? fd.close()
            fd = FileDescriptor(rawValue: -1)
        }
    }

    /// SO_BROADCAST: needed to send to 255.255.255.255.
    public func enableBroadcast() throws(Error) {
        try setIntegerOption(SOL_SOCKET, SO_BROADCAST, 1, name: "setsockopt(SO_BROADCAST)")
    }

    /// SO_REUSEADDR, so a second client on another interface can bind the same port.
    public func enableAddressReuse() throws(Error) {
        try setIntegerOption(SOL_SOCKET, SO_REUSEADDR, 1, name: "setsockopt(SO_REUSEADDR)")
    }

    /// SO_BINDTODEVICE: traffic leaves and is received only through this interface, whatever the routing table says
    /// (there is none yet during DHCP).
    public func bind(toDevice name: String) throws(Error) {
        let bytes = Array(name.utf8)
        guard bytes.count < 16 else { throw .interfaceNameTooLong(name) }
        let result = bytes.withUnsafeBufferPointer { buffer in
            setsockopt(fd.rawValue, SOL_SOCKET, SO_BINDTODEVICE, buffer.baseAddress, socklen_t(buffer.count))
        }
        guard result == 0 else { throw .system(.last("setsockopt(SO_BINDTODEVICE, \(name))")) }
    }

    public func bind(to address: SocketAddress) throws(Error) {
        let result = address.withSockaddr { pointer, length in Glibc.bind(fd.rawValue, pointer, length) }
        guard result == 0 else { throw .system(.last("bind(\(address))")) }
    }

    /// connect(2) for UDP: fixes the peer so only its datagrams are received and ICMP errors are reported.
    public func connect(to address: SocketAddress) throws(Error) {
        let result = address.withSockaddr { pointer, length in Glibc.connect(fd.rawValue, pointer, length) }
        guard result == 0 else { throw .system(.last("connect(\(address))")) }
    }

    /// The address the socket is bound to (the kernel's choice of port after binding port 0).
    public func localAddress() throws(Error) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd.rawValue, $0, &length) }
        }
        guard result == 0 else { throw .system(.last("getsockname")) }
        return SocketAddress.from(storage: storage)
    }

    public func send(_ bytes: [UInt8], to address: SocketAddress) throws(Error) {
        let sent = valueOrErrno {
            bytes.withUnsafeBytes { buffer in
                address.withSockaddr { pointer, length in
                    sendto(fd.rawValue, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL), pointer, length)
                }
            }
        }
        if case .failure(let errno) = sent {
            throw .system(SocketSystemError(operation: "sendto(\(address))", errno: errno))
        }
    }

    /// Sends on a connected socket.
    public func send(_ bytes: [UInt8]) throws(Error) {
        let sent = valueOrErrno {
            bytes.withUnsafeBytes { buffer in
                Glibc.send(fd.rawValue, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL))
            }
        }
        if case .failure(let errno) = sent { throw .system(SocketSystemError(operation: "send", errno: errno)) }
    }

    /// One datagram, or nil when nothing arrives before `deadline`. Datagrams longer than `maximumLength` are truncated.
    public func receive(
        deadline: ContinuousClock.Instant, maximumLength: Int = 65_536
    ) throws(Error) -> (bytes: [UInt8], from: SocketAddress?)? {
        while true {
            switch Waiting.readable(fd: fd, deadline: deadline) {
            case .failure(let error): throw .system(error)
            case .success(false): return nil
            case .success(true): break
            }
            var storage = sockaddr_storage()
            var storageLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
            var buffer = [UInt8](repeating: 0, count: max(1, maximumLength))
            let result = valueOrErrno {
                buffer.withUnsafeMutableBytes { raw in
                    withUnsafeMutablePointer(to: &storage) { pointer in
                        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            recvfrom(fd.rawValue, raw.baseAddress, raw.count, Int32(MSG_DONTWAIT), $0, &storageLength)
                        }
                    }
                }
            }
            let received: Int
            switch result {
            case .success(let count): received = count
            // EAGAIN (EWOULDBLOCK on Linux): poll said readable but the datagram was dropped (bad checksum); wait again.
            case .failure(.resourceTemporarilyUnavailable): continue
            case .failure(let errno): throw .system(SocketSystemError(operation: "recvfrom", errno: errno))
            }
            buffer.removeSubrange(min(received, buffer.count)...)
            return (buffer, SocketAddress.from(storage: storage))
        }
    }

    private func setIntegerOption(_ level: Int32, _ option: Int32, _ value: Int32, name: String) throws(Error) {
        var value = value
        let result = setsockopt(fd.rawValue, level, option, &value, socklen_t(MemoryLayout<Int32>.size))
        guard result == 0 else { throw .system(.last(name)) }
    }
}
