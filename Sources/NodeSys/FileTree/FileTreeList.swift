import Glibc
import SystemPackage

extension FileTree {
    /// Names in a directory, without `.` and `..`, sorted by their bytes so walks are deterministic.
    public struct Listing: Sendable {
        /// Every entry, byte for byte (names need not be UTF-8).
        public var entries: [PathBytes]
        /// The entries whose names are valid UTF-8, as text (for callers that only handle such names). Computed
        /// on use: a capture walk reads only `entries`, and decoding every name of every directory cost it.
        public var names: [String] { entries.compactMap(\.string) }
        /// Entries whose names are not valid UTF-8 (shown with replacement characters).
        public var undecodableNames: [String] {
            entries.filter { $0.string == nil }.map { String(decoding: $0.bytes, as: UTF8.self) }
        }
    }

    /// Lists `directory` through a duplicate descriptor, so the caller's descriptor stays usable for *at calls.
    public static func list(_ directory: FileDescriptor, path: @autoclosure () -> String) throws(Error) -> Listing {
        let copy = try retrying("dup", path()) { fcntl(directory.rawValue, F_DUPFD_CLOEXEC, 0) }
        guard let stream = fdopendir(copy) else {
            let code = Glibc.errno
            close(copy)
            throw .system(operation: "fdopendir", path: path(), errno: Errno(rawValue: code))
        }
        defer { closedir(stream) }
        rewinddir(stream)
        var entries: [PathBytes] = []
        while true {
            Glibc.errno = 0
            guard let entry = readdir(stream) else {
                let code = Glibc.errno
                if code != 0 { throw .system(operation: "readdir", path: path(), errno: Errno(rawValue: code)) }
                break
            }
            let bytes: [UInt8] = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                let length = raw.firstIndex(of: 0) ?? raw.count
                return Array(raw[0..<length])
            }
            if bytes == [UInt8(ascii: ".")] || bytes == [UInt8(ascii: "."), UInt8(ascii: ".")] { continue }
            entries.append(PathBytes(bytes))
        }
        entries.sort()
        return Listing(entries: entries)
    }
}
