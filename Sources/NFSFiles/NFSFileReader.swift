import CLibNFS

/// Reads one whole small file over NFS with libnfs, without a kernel mount (the tables the init needs before it
/// mounts anything else). NFSv4 first, then v3; every RPC bounded by `timeoutMilliseconds`.
public struct NFSFileReader: Sendable {
    /// Per-call timeout (connect, mount, open, each read).
    public var timeoutMilliseconds: Int32
    /// Largest file accepted: tables are small; a huge file is a mistake, not something to load into RAM.
    public var sizeLimit: Int

    public init(timeoutMilliseconds: Int32 = 5000, sizeLimit: Int = 4 << 20) {
        self.timeoutMilliseconds = timeoutMilliseconds
        self.sizeLimit = sizeLimit
    }

    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        /// Every version failed; one line per version tried with libnfs's own error text.
        case unreadable(url: String, attempts: [String])
        case tooLarge(url: String, size: UInt64, limit: Int)

        public var description: String {
            switch self {
            case .unreadable(let url, let attempts):
                return "cannot read \(url): " + attempts.joined(separator: "; ")
            case .tooLarge(let url, let size, let limit):
                return "\(url) is \(size) bytes, more than the \(limit) bytes accepted for a table"
            }
        }
    }

    /// The file's bytes. Tries NFSv4 (mounting `/` of the pseudo file system and walking to the file), then NFSv3
    /// (mounting the deepest exported directory above the file: each ancestor is tried, deepest first).
    public func read(_ url: NFSURL) throws(Error) -> [UInt8] {
        var attempts: [String] = []
        for version in [4, 3] {
            let exports = version == 4 ? ["/"] : Self.ancestors(of: url.path)
            for export in exports {
                switch readOnce(url, version: version, export: export) {
                case .success(let bytes):
                    return bytes
                case .failure(let failure):
                    if case .tooLarge = failure.kind {
                        throw .tooLarge(url: url.description, size: failure.size, limit: sizeLimit)
                    }
                    attempts.append("v\(version) export \(export): \(failure.message)")
                    // A server that does not answer at all will not answer for another export either.
                    if case .connect = failure.kind { break }
                }
            }
        }
        throw .unreadable(url: url.description, attempts: attempts)
    }

    /// Directories above `path`, deepest first, ending with `/`.
    static func ancestors(of path: String) -> [String] {
        var parts = path.split(separator: "/").map(String.init)
        parts.removeLast()
        var result: [String] = []
        while !parts.isEmpty {
            result.append("/" + parts.joined(separator: "/"))
            parts.removeLast()
        }
        result.append("/")
        return result
    }

    struct Failure: Swift.Error {
        enum Kind { case connect, other, tooLarge }
        var kind: Kind
        var message: String
        var size: UInt64 = 0
    }

    func readOnce(_ url: NFSURL, version: Int, export: String) -> Result<[UInt8], Failure> {
        guard let context = nfs_init_context() else {
            return .failure(Failure(kind: .other, message: "libnfs: cannot allocate a context"))
        }
        defer { nfs_destroy_context(context) }
        func libnfsError(_ rc: Int32, _ what: String) -> String {
            let text = nfs_get_error(context).map { String(cString: $0) } ?? ""
            return "\(what): " + (text.isEmpty ? "error \(rc)" : text)
        }
        nfs_set_timeout(context, timeoutMilliseconds)
        nfs_set_autoreconnect(context, 0)
        _ = nfs_set_version(context, Int32(version))
        let mounted = nfs_mount(context, url.server, export)
        if mounted != 0 {
            let refused = mounted == -111 || mounted == -110 || mounted == -113 || mounted == -101
            return .failure(Failure(kind: refused ? .connect : .other, message: libnfsError(mounted, "mount")))
        }
        defer { _ = nfs_umount(context) }
        var relative = String(url.path.dropFirst(export == "/" ? 0 : export.count))
        if !relative.hasPrefix("/") { relative = "/" + relative }
        var handle: OpaquePointer? = nil
        let opened = nfs_open(context, relative, 0 /* O_RDONLY */, &handle)
        guard opened == 0, let handle else {
            return .failure(Failure(kind: .other, message: libnfsError(opened, "open \(relative)")))
        }
        defer { _ = nfs_close(context, handle) }
        var st = nfs_stat_64()
        let statted = nfs_fstat64(context, handle, &st)
        if statted != 0 { return .failure(Failure(kind: .other, message: libnfsError(statted, "stat"))) }
        if st.nfs_size > UInt64(sizeLimit) {
            return .failure(Failure(kind: .tooLarge, message: "too large", size: st.nfs_size))
        }
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 32768)
        var offset: UInt64 = 0
        while result.count <= sizeLimit {
            let count = buffer.withUnsafeMutableBytes { raw in
                nfs_pread(context, handle, offset, UInt64(raw.count), raw.baseAddress)
            }
            if count < 0 { return .failure(Failure(kind: .other, message: libnfsError(count, "read at \(offset)"))) }
            if count == 0 { return .success(result) }
            result.append(contentsOf: buffer[0..<Int(count)])
            offset &+= UInt64(count)
        }
        return .failure(Failure(kind: .tooLarge, message: "too large", size: UInt64(result.count)))
    }
}
