import CNodeShim
import Glibc
import SystemPackage

/// A listening TCP socket. Accepted connections are non-blocking (TCPStream waits with poll itself) and
/// close-on-exec.
public struct TCPListener: Sendable {
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case socket(Errno)
        case bind(SocketAddress, Errno)
        case listen(SocketAddress, Errno)
        case accept(Errno)

        public var description: String {
            switch self {
            case .socket(let errno): "cannot create a tcp socket: \(errno) (errno \(errno.rawValue))"
            case .bind(let address, let errno): "cannot bind \(address): \(errno) (errno \(errno.rawValue))"
            case .listen(let address, let errno): "cannot listen on \(address): \(errno) (errno \(errno.rawValue))"
            case .accept(let errno): "accept failed: \(errno) (errno \(errno.rawValue))"
            }
        }
    }

    public let fd: FileDescriptor
    /// The bound address, with the real port when port 0 (ephemeral) was asked for.
    public let localAddress: SocketAddress

    /// Listens on `address`, or when nil on every address: `[::]` with IPV6_V6ONLY off, so one socket
    /// takes IPv4 and IPv6 clients, falling back to `0.0.0.0` when the kernel has IPv6 disabled.
    public static func listen(on address: IPAddress?, port: UInt16, backlog: Int32 = 64) throws(Error) -> TCPListener {
        if let address {
            return try bindAndListen(SocketAddress(address, port: port), dualStack: false, backlog: backlog)
        }
        do {
            return try bindAndListen(SocketAddress(.anyIPv6, port: port), dualStack: true, backlog: backlog)
        } catch .socket(.addressFamilyNotSupported) {
            return try bindAndListen(SocketAddress(.anyIPv4, port: port), dualStack: false, backlog: backlog)
        }
    }

    private static func bindAndListen(_ address: SocketAddress, dualStack: Bool, backlog: Int32) throws(Error)
        -> TCPListener
    {
        let domain = address.address.isIPv6 ? AF_INET6 : AF_INET
        let raw = socket(domain, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if raw == -1 { throw .socket(Errno(rawValue: errno)) }
        let fd = FileDescriptor(rawValue: raw)
        var keep = false
        defer { if !keep { try? fd.close() } }
        // A restarted agent must be able to rebind while old connections sit in TIME_WAIT.
        _ = SocketCalls.setOption(fd, level: SOL_SOCKET, name: SO_REUSEADDR, value: 1)
        if domain == AF_INET6 {
            _ = SocketCalls.setOption(fd, level: Int32(IPPROTO_IPV6), name: IPV6_V6ONLY, value: dualStack ? 0 : 1)
        }
        let bound = address.withSockaddr { pointer, length in bind(fd.rawValue, pointer, length) }
        if bound == -1 { throw .bind(address, .captured) }
        if systemListen(fd, backlog) == -1 { throw .listen(address, .captured) }
        let local: SocketAddress
        switch SocketCalls.localAddress(of: fd) {
        case .success(let value): local = value
        case .failure(let errno): throw .bind(address, errno)
        }
        keep = true
        return TCPListener(fd: fd, localAddress: local)
    }

    /// Waits for the next connection. Retries EINTR and the transient per-connection errors
    /// (ECONNABORTED, EPROTO, ...) that Linux reports from accept for a peer that already left.
    public func accept() throws(Error) -> TCPStream {
        while true {
            var storage = sockaddr_storage()
            var length = UInt32(MemoryLayout<sockaddr_storage>.size)
            let accepted = valueOrErrno {
                withUnsafeMutablePointer(to: &storage) { pointer in
                    pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        nodeinit_accept_stream(fd.rawValue, $0, &length)
                    }
                }
            }
            let connectionFD: FileDescriptor
            switch accepted {
            case .success(let raw): connectionFD = FileDescriptor(rawValue: raw)
            case .failure(.connectionAbort), .failure(.protocolError), .failure(.resourceTemporarilyUnavailable):
                continue
            case .failure(let saved): throw .accept(saved)
            }
            guard let peer = SocketAddress.from(storage: storage) else {
                try? connectionFD.close()
                continue
            }
            // A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; give callers the IPv4 address.
            return TCPStream(fd: connectionFD, peer: SocketAddress(peer.address.unmappedIPv4, port: peer.port))
        }
    }

    /// Wakes a thread blocked in `accept` (it then fails with EINVAL); call `close` after that thread is done.
    public func shutdown() {
        _ = systemShutdown(fd, Int32(SHUT_RDWR))
    }

    public func close() {
        try? fd.close()
    }
}

// File-scope names for the libc calls that TCPListener's own methods shadow.
private func systemListen(_ fd: FileDescriptor, _ backlog: Int32) -> Int32 { listen(fd.rawValue, backlog) }
func systemShutdown(_ fd: FileDescriptor, _ how: Int32) -> Int32 { shutdown(fd.rawValue, how) }
