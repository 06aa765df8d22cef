import Glibc
import SystemPackage

extension FileTree {
    /// Names in a directory, without `.` and `..`, sorted by their UTF-8 bytes so walks are deterministic.
    public struct Listing: Sendable {
        public var names: [String]
        /// Entries whose names are not valid UTF-8 (shown with replacement characters); callers report them.
        public var undecodableNames: [String]
    }

    /// Lists `directory` through a duplicate descriptor, so the caller's descriptor stays usable for *at calls.
    public static func list(_ directory: FileDescriptor, path: String) throws(Error) -> Listing {
        let copy = try retrying("dup", path) { fcntl(directory.rawValue, F_DUPFD_CLOEXEC, 0) }
        guard let stream = fdopendir(copy) else {
            let code = Glibc.errno
            close(copy)
            throw .system(operation: "fdopendir", path: path, errno: Errno(rawValue: code))
        }
        defer { closedir(stream) }
        rewinddir(stream)
        var listing = Listing(names: [], undecodableNames: [])
        while true {
            Glibc.errno = 0
            guard let entry = readdir(stream) else {
                let code = Glibc.errno
                if code != 0 { throw .system(operation: "readdir", path: path, errno: Errno(rawValue: code)) }
                break
            }
            let bytes: [UInt8] = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                let length = raw.firstIndex(of: 0) ?? raw.count
                return Array(raw[0..<length])
            }
            if bytes == [UInt8(ascii: ".")] || bytes == [UInt8(ascii: "."), UInt8(ascii: ".")] { continue }
            if let name = String(validating: bytes, as: UTF8.self) {
                listing.names.append(name)
            } else {
                listing.undecodableNames.append(String(decoding: bytes, as: UTF8.self))
            }
        }
        listing.names.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        return listing
    }
}
