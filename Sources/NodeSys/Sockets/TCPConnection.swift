#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A client TCP connection whose connect, send and receive all finish by a deadline.
public final class TCPConnection {
    public enum Error: Swift.Error, Hashable, Sendable, CustomStringConvertible {
        case system(SocketSystemError)
        case timedOut(operation: String, peer: SocketAddress)
        case closedByPeer(peer: SocketAddress, expected: Int, received: Int)

        public var description: String {
            switch self {
            case .system(let error): "tcp: \(error)"
            case .timedOut(let operation, let peer): "tcp: \(operation) to \(peer) timed out"
            case .closedByPeer(let peer, let expected, let received):
                "tcp: \(peer) closed the connection after \(received) of \(expected) bytes"
            }
        }
    }

    public let peer: SocketAddress
    public private(set) var fd: Int32

    /// Non-blocking connect, then waits for writability until `deadline`.
    public init(connectingTo peer: SocketAddress, deadline: ContinuousClock.Instant) throws(Error) {
        self.peer = peer
        let fd = socket(
            peer.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue),
            Int32(IPPROTO_TCP))
        guard fd >= 0 else { throw .system(.last("socket(tcp)")) }
        self.fd = fd
        let result = peer.withSockaddr { pointer, length in Glibc.connect(fd, pointer, length) }
        if result != 0 {
            let error = SocketSystemError.last("connect(\(peer))")
            guard error.code == EINPROGRESS || error.code == EINTR else {
                close()
                throw .system(error)
            }
            switch Waiting.writable(fd: fd, deadline: deadline) {
            case .failure(let error):
                close()
                throw .system(error)
            case .success(false):
                close()
                throw .timedOut(operation: "connect", peer: peer)
            case .success(true):
                var pending: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                if getsockopt(fd, SOL_SOCKET, SO_ERROR, &pending, &length) != 0 {
                    let failure = SocketSystemError.last("getsockopt(SO_ERROR)")
                    close()
                    throw .system(failure)
                }
                if pending != 0 {
                    close()
                    throw .system(SocketSystemError(operation: "connect(\(peer))", code: pending))
                }
            }
        }
    }

    deinit { close() }

    public func close() {
        if fd >= 0 {
            _ = Glibc.close(fd)
            fd = -1
        }
    }

    public func sendAll(_ bytes: [UInt8], deadline: ContinuousClock.Instant) throws(Error) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { buffer in
                Glibc.send(fd, buffer.baseAddress.map { $0 + offset }, buffer.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent > 0 {
                offset += sent
                continue
            }
            let error = SocketSystemError.last("send(\(peer))")
            if error.code == EINTR { continue }
            guard error.code == EAGAIN || error.code == EWOULDBLOCK else { throw .system(error) }
            switch Waiting.writable(fd: fd, deadline: deadline) {
            case .failure(let error): throw .system(error)
            case .success(false): throw .timedOut(operation: "send", peer: peer)
            case .success(true): continue
            }
        }
    }

    /// Exactly `count` bytes, or an error (timeout, peer closed early).
    public func receive(exactly count: Int, deadline: ContinuousClock.Instant) throws(Error) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            switch Waiting.readable(fd: fd, deadline: deadline) {
            case .failure(let error): throw .system(error)
            case .success(false): throw .timedOut(operation: "receive", peer: peer)
            case .success(true): break
            }
            let received = result.withUnsafeMutableBytes { buffer in
                recv(fd, buffer.baseAddress.map { $0 + offset }, count - offset, 0)
            }
            if received > 0 {
                offset += received
            } else if received == 0 {
                throw .closedByPeer(peer: peer, expected: count, received: offset)
            } else {
                let error = SocketSystemError.last("recv(\(peer))")
                if error.code == EINTR || error.code == EAGAIN || error.code == EWOULDBLOCK { continue }
                throw .system(error)
            }
        }
        return result
    }
}
