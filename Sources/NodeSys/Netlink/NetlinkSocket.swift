import Glibc
import SystemPackage

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

    /// -1 once closed, so a later call fails with EBADF instead of reaching a descriptor number reused since.
    public private(set) var fd: FileDescriptor

    public init() throws(RouteNetlink.Error) {
        let fd = socket(
            Self.addressFamilyNetlink, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Self.protocolRoute)
        guard fd >= 0 else { throw .system(.last("socket(AF_NETLINK, NETLINK_ROUTE)")) }
        self.fd = FileDescriptor(rawValue: fd)
    }

    deinit { close() }

    public func close() {
        if fd.rawValue >= 0 {
            try? fd.close()
            fd = FileDescriptor(rawValue: -1)
        }
    }

    public func send(_ frame: [UInt8]) throws(RouteNetlink.Error) {
        switch valueOrErrno({ frame.withUnsafeBytes { Glibc.send(fd.rawValue, $0.baseAddress, $0.count, 0) } }) {
        case .success(let sent) where sent == frame.count: return
        case .success(let sent): throw .shortSend(sent: sent, expected: frame.count)
        case .failure(let errno): throw .system(SocketSystemError(operation: "netlink send", errno: errno))
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
            let received: Int
            switch valueOrErrno({
                buffer.withUnsafeMutableBytes { recv(fd.rawValue, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            }) {
            case .success(let count): received = count
            case .failure(.resourceTemporarilyUnavailable): continue  // EWOULDBLOCK is the same value on Linux
            case .failure(let errno): throw .system(SocketSystemError(operation: "netlink recv", errno: errno))
            }
            buffer.removeSubrange(min(received, buffer.count)...)
            return buffer
        }
    }
}
