import SystemPackage

/// Reads the agent's bearer token from a file that only root can read: owned by uid 0, no group
/// or other permission bits. A token anyone on the node can read would protect nothing.
public enum TokenFile {
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case open(path: String, Errno)
        case read(path: String, Errno)
        case notRegularFile(path: String)
        case notOwnedByRoot(path: String, uid: UInt32)
        case tooPermissive(path: String, mode: UInt32)
        case empty(path: String)
        case invalid(path: String)

        public var description: String {
            switch self {
            case .open(let path, let e): "cannot open token file \(path): \(e) (errno \(e.rawValue))"
            case .read(let path, let e): "cannot read token file \(path): \(e) (errno \(e.rawValue))"
            case .notRegularFile(let path): "token file \(path) is not a regular file"
            case .notOwnedByRoot(let path, let uid): "token file \(path) is owned by uid \(uid), must be owned by root"
            case .tooPermissive(let path, let mode):
                "token file \(path) has mode \(String(mode, radix: 8, uppercase: false).leftPadded(to: 4)), must be 0600 or stricter (chmod 600 \(path))"
            case .empty(let path): "token file \(path) is empty"
            case .invalid(let path):
                "token file \(path) must hold one token of letters, digits and -._~+/= (a trailing newline is fine)"
            }
        }
    }

    public static func load(_ path: String) throws(Error) -> BearerToken {
        let fd: FileDescriptor
        do {
            // Non-blocking: opening a FIFO (or a device) must not hang the agent at start; fstat refuses it next.
            fd = try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec, .noFollow, .nonBlocking])
        } catch {
            throw .open(path: path, (error as? Errno) ?? .invalidArgument)
        }
        defer { try? fd.close() }
        let info: Stat
        do { info = try fd.stat() } catch { throw .open(path: path, error) }
        guard info.type == .regular else { throw .notRegularFile(path: path) }
        guard info.userID.rawValue == 0 else { throw .notOwnedByRoot(path: path, uid: info.userID.rawValue) }
        let mode = UInt32(info.permissions.rawValue) & 0o7777
        guard mode & 0o077 == 0 else { throw .tooPermissive(path: path, mode: mode) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while bytes.count <= 4096 {
            let count: Int
            do { count = try buffer.withUnsafeMutableBytes { try fd.read(into: $0) } } catch {
                throw .read(path: path, (error as? Errno) ?? .ioError)
            }
            if count == 0 { break }
            bytes.append(contentsOf: buffer[0..<count])
        }
        while let last = bytes.last, last == 10 || last == 13 || last == 32 || last == 9 { bytes.removeLast() }
        guard !bytes.isEmpty else { throw .empty(path: path) }
        guard bytes.count <= 4096, let text = String(validating: bytes, as: UTF8.self), let token = BearerToken(text)
        else {
            throw .invalid(path: path)
        }
        return token
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
