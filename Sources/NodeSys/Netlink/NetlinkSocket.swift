import Glibc

/// Where rtnetlink frames go: the kernel socket below, or a recording fake in tests.
public protocol NetlinkTransport: AnyObject {
    func send(_ frame: [UInt8]) throws(RouteNetlink.Error)
    /// One datagram (possibly holding several messages); throws `.timedOut` when nothing arrives by `deadline`.
    func receive(deadline: ContinuousClock.Instant) throws(RouteNetlink.Error) -> [UInt8]
}

/// An AF_NETLINK/NETLINK_ROUTE socket. It is never bound explicitly: the kernel auto-binds it on the first send and
/// an unaddressed send goes to the kernel (port 0), so no `sockaddr_nl` is needed.
public final class NetlinkSocket: NetlinkTransport {
    private static let addressFamilyNetlink: Int32 = 16  // AF_NETLINK
    private static let protocolRoute: Int32 = 0  // NETLINK_ROUTE

    public private(set) var fd: Int32

    public init() throws(RouteNetlink.Error) {
        let fd = socket(Self.addressFamilyNetlink, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Self.protocolRoute)
        guard fd >= 0 else { throw .system(.last("socket(AF_NETLINK, NETLINK_ROUTE)")) }
        self.fd = fd
    }

    deinit { close() }

    public func close() {
        if fd >= 0 {
            _ = Glibc.close(fd)
            fd = -1
        }
    }

    public func send(_ frame: [UInt8]) throws(RouteNetlink.Error) {
        while true {
            let sent = frame.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
            if sent == frame.count { return }
            if sent >= 0 { throw .shortSend(sent: sent, expected: frame.count) }
            let error = SocketSystemError.last("netlink send")
            if error.code == EINTR { continue }
            throw .system(error)
        }
    }

    public func receive(deadline: ContinuousClock.Instant) throws(RouteNetlink.Error) -> [UInt8] {
        while true {
            switch Waiting.readable(fd: fd, deadline: deadline) {
            case .failure(let error): throw .system(error)
            case .success(false): throw .timedOut
            case .success(true): break
            }
            // 64 KiB: the kernel sizes dump chunks to the reader's buffer, never above this.
            var buffer = [UInt8](repeating: 0, count: 65_536)
            let received = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if received < 0 {
                let error = SocketSystemError.last("netlink recv")
                if error.code == EINTR || error.code == EAGAIN || error.code == EWOULDBLOCK { continue }
                throw .system(error)
            }
            buffer.removeSubrange(min(received, buffer.count)...)
            return buffer
        }
    }
}
