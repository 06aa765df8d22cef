import Glibc
import SystemPackage

/// A connected TCP socket with the peer's address. The socket is non-blocking (from `connect`, and from
/// `TCPListener.accept`); every call waits for readiness with poll, up to its timeout.
///
/// Every send uses MSG_NOSIGNAL, so a peer that disconnects mid-stream yields EPIPE/ECONNRESET as an
/// error instead of a SIGPIPE that would kill the process. Sends and receives take a timeout: a peer
/// that stops reading or writing cannot hold a thread forever.
public struct TCPStream: Sendable {
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case socket(Errno)
        case bind(IPAddress, Errno)
        case connect(SocketAddress, Errno)
        case connectTimedOut(SocketAddress, milliseconds: Int32)
        case send(SocketAddress, Errno)
        case sendTimedOut(SocketAddress, milliseconds: Int32)
        case receive(SocketAddress, Errno)
        case receiveTimedOut(SocketAddress, milliseconds: Int32)
        case closedEarly(SocketAddress, expected: Int, received: Int)
        /// The pipe spliced into the socket ended (every writer closed) before the bytes it was to hold.
        case pipeEnded(SocketAddress, expected: Int, sent: Int)

        public var description: String {
            switch self {
            case .socket(let e): "cannot create a tcp socket: \(e) (errno \(e.rawValue))"
            case .bind(let a, let e): "cannot bind the local address \(a): \(e) (errno \(e.rawValue))"
            case .connect(let a, let e): "cannot connect to \(a): \(e) (errno \(e.rawValue))"
            case .connectTimedOut(let a, let ms): "no answer from \(a) within \(ms) ms"
            case .send(let a, let e): "cannot send to \(a): \(e) (errno \(e.rawValue))"
            case .sendTimedOut(let a, let ms): "\(a) accepted no data for \(ms) ms"
            case .receive(let a, let e): "cannot receive from \(a): \(e) (errno \(e.rawValue))"
            case .receiveTimedOut(let a, let ms): "\(a) sent nothing for \(ms) ms"
            case .closedEarly(let a, let expected, let received):
                "\(a) closed the connection after \(received) of \(expected) bytes"
            case .pipeEnded(let a, let expected, let sent):
                "the pipe feeding the stream to \(a) ended after \(sent) of \(expected) bytes"
            }
        }

        /// True when the peer went away (reset, closed its end): expected, not an agent fault.
        public var isPeerGone: Bool {
            switch self {
            case .send(_, let e), .receive(_, let e): [.brokenPipe, .connectionReset, .connectionAbort].contains(e)
            default: false
            }
        }
    }

    public let fd: FileDescriptor
    public let peer: SocketAddress

    public init(fd: FileDescriptor, peer: SocketAddress) {
        self.fd = fd
        self.peer = peer
    }

    /// Connects to `address`, optionally from a given local address (a test uses 127.0.0.2 to look
    /// like another client) and port (0: any), failing after `timeoutMilliseconds`. `reuseAddress` sets
    /// SO_REUSEADDR before binding `sourcePort`, so a port whose earlier connection sits in TIME_WAIT can be
    /// bound again (a listening socket on it still refuses the bind).
    public static func connect(
        to address: SocketAddress, from source: IPAddress? = nil, sourcePort: UInt16 = 0,
        reuseAddress: Bool = false, timeoutMilliseconds: Int32 = 10_000
    ) throws(Error) -> TCPStream {
        let domain = address.address.isIPv6 ? AF_INET6 : AF_INET
        let raw = socket(
            domain, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        if raw == -1 { throw .socket(Errno(rawValue: errno)) }
        let fd = FileDescriptor(rawValue: raw)
        var keep = false
        defer { if !keep { try? fd.close() } }
        if source != nil || sourcePort != 0 {
            if reuseAddress { _ = SocketCalls.setOption(fd, level: SOL_SOCKET, name: SO_REUSEADDR, value: 1) }
            let local = source ?? (address.address.isIPv6 ? .anyIPv6 : .anyIPv4)
            let result = SocketAddress(local, port: sourcePort).withSockaddr { bind(fd.rawValue, $0, $1) }
            if result == -1 { throw .bind(local, Errno(rawValue: errno)) }
        }
        // Not retried after EINTR: the connection goes on in the background, like EINPROGRESS; poll waits for it.
        if case .failure(let saved) = valueOrErrno(
            retryOnInterrupt: false, { address.withSockaddr { systemConnect(fd, $0, $1) } })
        {
            guard saved == .nowInProgress || saved == .interrupted else { throw .connect(address, saved) }
            switch Waiting.wait(
                for: Int16(POLLOUT), on: fd, deadline: Waiting.deadline(afterMilliseconds: timeoutMilliseconds))
            {
            case .failure(let e): throw .connect(address, e)
            case .success(.timedOut): throw .connectTimedOut(address, milliseconds: timeoutMilliseconds)
            case .success(.ready): break
            }
            var pending: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            if getsockopt(fd.rawValue, SOL_SOCKET, SO_ERROR, &pending, &length) == -1 {
                throw .connect(address, .captured)
            }
            if pending != 0 { throw .connect(address, Errno(rawValue: pending)) }
        }
        // Left non-blocking, like accepted sockets: every later call waits with poll itself, and splice(2)
        // into the socket, which takes no MSG_DONTWAIT, must not block past its timeout either.
        keep = true
        return TCPStream(fd: fd, peer: address)
    }

    /// Sends every byte, retrying EINTR and partial writes; waits for buffer space on EAGAIN up to
    /// `timeoutMilliseconds` of no progress.
    /// `more` (MSG_MORE) tells the kernel more data follows at once, so it may hold a partial segment back until
    /// the next send; the last send of a burst must go without it.
    public func send(_ bytes: UnsafeRawBufferPointer, more: Bool = false, timeoutMilliseconds: Int32 = 60_000)
        throws(Error)
    {
        guard let base = bytes.baseAddress else { return }
        let flags = Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT) | (more ? Int32(MSG_MORE) : 0)
        var offset = 0
        while offset < bytes.count {
            switch valueOrErrno({ systemSend(fd, base + offset, bytes.count - offset, flags) }) {
            case .success(let sent):
                offset += sent
            case .failure(.resourceTemporarilyUnavailable):
                try waitUntilWritable(timeoutMilliseconds: timeoutMilliseconds)
            case .failure(let saved):
                throw .send(peer, saved)
            }
        }
    }

    public func send(_ bytes: [UInt8], more: Bool = false, timeoutMilliseconds: Int32 = 60_000) throws(Error) {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(Error) in try send(raw, more: more, timeoutMilliseconds: timeoutMilliseconds) }
        }
        try result.get()
    }

    public func send(_ text: String, timeoutMilliseconds: Int32 = 60_000) throws(Error) {
        try send(Array(text.utf8), timeoutMilliseconds: timeoutMilliseconds)
    }

    /// Receives up to `buffer.count` bytes; returns 0 at end of stream. Waits at most
    /// `timeoutMilliseconds` for the first byte.
    /// With `peek` (MSG_PEEK) the bytes stay queued: the next receive returns them again.
    public func receive(
        into buffer: UnsafeMutableRawBufferPointer, peek: Bool = false, timeoutMilliseconds: Int32 = 60_000
    ) throws(Error) -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        let flags = Int32(MSG_DONTWAIT) | (peek ? Int32(MSG_PEEK) : 0)
        while true {
            switch valueOrErrno({ recv(fd.rawValue, base, buffer.count, flags) }) {
            case .success(let count):
                return count
            case .failure(.resourceTemporarilyUnavailable):
                try waitUntilReadable(timeoutMilliseconds: timeoutMilliseconds)
            case .failure(let saved):
                throw .receive(peer, saved)
            }
        }
    }

    /// Receives up to `maxCount` bytes; an empty array means the peer closed its end.
    public func receive(maxCount: Int, timeoutMilliseconds: Int32 = 60_000) throws(Error) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: max(1, maxCount))
        let result = bytes.withUnsafeMutableBytes { raw in
            Result { () throws(Error) in try receive(into: raw, timeoutMilliseconds: timeoutMilliseconds) }
        }
        let count = try result.get()
        bytes.removeSubrange(count...)
        return bytes
    }

    /// Exactly `count` bytes, for length-prefixed protocols (DNS over TCP); the peer closing first is an error.
    /// `timeoutMilliseconds` bounds each wait for more bytes.
    public func receive(exactly count: Int, timeoutMilliseconds: Int32 = 60_000) throws(Error) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let result = bytes.withUnsafeMutableBytes { raw in
                Result { () throws(Error) in
                    try receive(
                        into: UnsafeMutableRawBufferPointer(rebasing: raw[filled...]),
                        timeoutMilliseconds: timeoutMilliseconds)
                }
            }
            let received = try result.get()
            if received == 0 { throw .closedEarly(peer, expected: count, received: filled) }
            filled += received
        }
        return bytes
    }

    /// Half-closes the sending side: the peer reads end of stream, we can still receive.
    public func shutdownSending() {
        _ = systemShutdown(fd, Int32(SHUT_WR))
    }

    /// Makes the next close send a reset instead of a FIN (SO_LINGER 0): how a test simulates a
    /// client that vanishes.
    public func abort() {
        var option = linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(fd.rawValue, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
        close()
    }

    public func close() {
        try? fd.close()
    }
}

private func systemConnect(_ fd: FileDescriptor, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 {
    connect(fd.rawValue, address, length)
}

private func systemSend(_ fd: FileDescriptor, _ bytes: UnsafeRawPointer, _ count: Int, _ flags: Int32) -> Int {
    send(fd.rawValue, bytes, count, flags)
}

extension TCPStream {
    /// After EAGAIN on a receive: waits until data (or the end) arrives, or throws the poll's failure or the timeout.
    func waitUntilReadable(timeoutMilliseconds: Int32) throws(Error) {
        switch Waiting.wait(
            for: Int16(POLLIN), on: fd, deadline: Waiting.deadline(afterMilliseconds: timeoutMilliseconds))
        {
        case .failure(let e): throw .receive(peer, e)
        case .success(.timedOut): throw .receiveTimedOut(peer, milliseconds: timeoutMilliseconds)
        case .success(.ready): return
        }
    }

    /// After EAGAIN on a send: waits until the socket takes more, or throws the poll's failure or the timeout.
    func waitUntilWritable(timeoutMilliseconds: Int32) throws(Error) {
        switch Waiting.wait(
            for: Int16(POLLOUT), on: fd, deadline: Waiting.deadline(afterMilliseconds: timeoutMilliseconds))
        {
        case .failure(let e): throw .send(peer, e)
        case .success(.timedOut): throw .sendTimedOut(peer, milliseconds: timeoutMilliseconds)
        case .success(.ready): return
        }
    }
}
