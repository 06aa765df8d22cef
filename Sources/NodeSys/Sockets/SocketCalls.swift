import Glibc
import SystemPackage

/// Socket-option and socket-name helpers for TCPStream and TCPListener.
enum SocketCalls {
    static func setOption(_ fd: FileDescriptor, level: Int32, name: Int32, value: Int32) -> Result<Void, Errno> {
        var value = value
        return nothingOrErrno { setsockopt(fd.rawValue, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) }
    }

    static func localAddress(of fd: FileDescriptor) -> Result<SocketAddress, Errno> {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd.rawValue, $0, &length) }
        }
        if result == -1 { return .failure(.captured) }
        guard let address = SocketAddress.from(storage: storage) else { return .failure(.addressFamilyNotSupported) }
        return .success(address)
    }
}
