/// Where a `CpioNewcWriter` puts its bytes (a compressor in front of a file, or memory in tests).
public protocol CpioByteSink {
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws
}

/// Writes a newc ("070701") cpio archive, the format the kernel unpacks into its rootfs. Every entry is owned
/// by root with mtime 0, so the same inputs give the same archive whoever builds it and whenever.
///
/// Entries are streamed: a file's header goes out first and its bytes follow through `writeData`, so no file is
/// ever held whole. The kernel's unpacker creates no missing parent directories, so every entry's parents are
/// written before it (once each).
public struct CpioNewcWriter<Sink: CpioByteSink> {
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case duplicateEntry(String)
        case invalidName(String)
        case sizeMismatch(name: String, declared: UInt64, written: UInt64)
        case tooLarge(name: String, size: UInt64)
        case entryStillOpen(String)

        public var description: String {
            switch self {
            case .duplicateEntry(let name): "duplicate archive entry \(name)"
            case .invalidName(let name): "invalid archive entry name '\(name)' (empty, or holds NUL)"
            case .sizeMismatch(let name, let declared, let written):
                "archive entry \(name): header says \(declared) bytes but \(written) were written (file changed while read?)"
            case .tooLarge(let name, let size): "archive entry \(name): \(size) bytes is over newc's 4 GiB limit"
            case .entryStillOpen(let name): "archive entry \(name) is still being written"
            }
        }
    }

    /// The file type bits of a newc mode.
    public enum FileType: UInt32, Sendable {
        case regular = 0o100000
        case directory = 0o040000
        case symlink = 0o120000
        case characterDevice = 0o020000
    }

    public private(set) var sink: Sink
    /// Bytes written so far (the archive is padded against this count).
    public private(set) var offset: UInt64 = 0
    private var nextInode: UInt32 = 1
    private var names: Set<[UInt8]> = []
    private var open: (name: [UInt8], declared: UInt64, written: UInt64)?

    public init(sink: Sink) { self.sink = sink }

    /// True when `name` (without leading slashes) already has an entry.
    public func contains(_ name: [UInt8]) -> Bool { names.contains(Self.relative(name)) }

    /// A directory and every missing parent; parents get 0755, `name` itself `permissions`. Nothing is written
    /// for a directory that already has an entry.
    public mutating func directory(_ name: [UInt8], permissions: UInt32 = 0o755) throws {
        let components = Self.relative(name).split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true)
        var path: [UInt8] = []
        for (index, component) in components.enumerated() {
            if !path.isEmpty { path.append(UInt8(ascii: "/")) }
            path.append(contentsOf: component)
            if names.contains(path) { continue }
            let mode = index == components.count - 1 ? permissions : 0o755
            try header(path, type: .directory, permissions: mode, size: 0, links: 2)
        }
    }

    /// Starts a regular file of `size` bytes; its bytes follow with `writeData` and it ends with `finishFile`.
    public mutating func beginFile(_ name: [UInt8], permissions: UInt32, size: UInt64) throws {
        try parents(of: name)
        try header(name, type: .regular, permissions: permissions, size: size, links: 1)
        if size > 0 { open = (Self.relative(name), size, 0) } else { try pad() }
    }

    /// Bytes of the file begun last.
    public mutating func writeData(_ bytes: UnsafeRawBufferPointer) throws {
        guard var current = open else { return }
        current.written += UInt64(bytes.count)
        guard current.written <= current.declared else {
            throw Error.sizeMismatch(
                name: Self.display(current.name), declared: current.declared, written: current.written)
        }
        open = current
        try emit(bytes)
    }

    /// Ends the file begun last; throws when fewer bytes came than its header declared.
    public mutating func finishFile() throws {
        guard let current = open else { return }
        guard current.written == current.declared else {
            throw Error.sizeMismatch(
                name: Self.display(current.name), declared: current.declared, written: current.written)
        }
        open = nil
        try pad()
    }

    /// A whole small file from memory.
    public mutating func file(_ name: [UInt8], permissions: UInt32, contents: [UInt8]) throws {
        try beginFile(name, permissions: permissions, size: UInt64(contents.count))
        try contents.withUnsafeBytes { try writeData($0) }
        try finishFile()
    }

    /// A symbolic link: its target is the entry's data, as the kernel's unpacker expects. Mode 0777.
    public mutating func symlink(_ name: [UInt8], target: [UInt8]) throws {
        try parents(of: name)
        try header(name, type: .symlink, permissions: 0o777, size: UInt64(target.count), links: 1)
        try target.withUnsafeBytes { try emit($0) }
        try pad()
    }

    /// A character device node (its parent directory must already be in the archive).
    public mutating func characterDevice(_ name: [UInt8], major: UInt32, minor: UInt32, permissions: UInt32)
        throws
    {
        try header(name, type: .characterDevice, permissions: permissions, size: 0, links: 1, rdev: (major, minor))
        try pad()
    }

    /// The `TRAILER!!!` entry that ends the archive.
    public mutating func finish() throws {
        try header(Array("TRAILER!!!".utf8), mode: 0, size: 0, links: 1, rdev: (0, 0))
        try pad()
    }

    // MARK: - Encoding

    private mutating func parents(of name: [UInt8]) throws {
        let relative = Self.relative(name)
        guard let slash = relative.lastIndex(of: UInt8(ascii: "/")) else { return }
        try directory(Array(relative[..<slash]))
    }

    private mutating func header(
        _ name: [UInt8], type: FileType, permissions: UInt32, size: UInt64, links: UInt32,
        rdev: (UInt32, UInt32) = (0, 0)
    ) throws {
        try header(name, mode: type.rawValue | (permissions & 0o7777), size: size, links: links, rdev: rdev)
    }

    private mutating func header(_ rawName: [UInt8], mode: UInt32, size: UInt64, links: UInt32, rdev: (UInt32, UInt32))
        throws
    {
        if let current = open { throw Error.entryStillOpen(Self.display(current.name)) }
        let name = Self.relative(rawName)
        guard !name.isEmpty, !name.contains(0) else { throw Error.invalidName(Self.display(rawName)) }
        guard size <= UInt64(UInt32.max) else { throw Error.tooLarge(name: Self.display(name), size: size) }
        guard names.insert(name).inserted else { throw Error.duplicateEntry(Self.display(name)) }
        let fields: [UInt32] = [
            nextInode, mode, 0, 0, links, 0, UInt32(size), 0, 0, rdev.0, rdev.1, UInt32(name.count + 1), 0,
        ]
        nextInode &+= 1
        var bytes = Array("070701".utf8)
        bytes.reserveCapacity(110 + name.count + 4)
        for field in fields { Self.appendHex(field, to: &bytes) }
        bytes.append(contentsOf: name)
        bytes.append(0)
        try bytes.withUnsafeBytes { try emit($0) }
        try pad()
    }

    private mutating func pad() throws {
        let remainder = Int(offset % 4)
        if remainder == 0 { return }
        let zeros: [UInt8] = [0, 0, 0]
        try zeros.withUnsafeBytes { try emit(UnsafeRawBufferPointer(rebasing: $0[0..<(4 - remainder)])) }
    }

    private mutating func emit(_ bytes: UnsafeRawBufferPointer) throws {
        try sink.write(bytes)
        offset += UInt64(bytes.count)
    }

    /// Eight upper-case hex digits, as newc writes every number.
    static func appendHex(_ value: UInt32, to bytes: inout [UInt8]) {
        let digits = Array("0123456789ABCDEF".utf8)
        for shift in stride(from: 28, through: 0, by: -4) {
            bytes.append(digits[Int((value >> UInt32(shift)) & 0xf)])
        }
    }

    /// Archive names are relative: leading slashes go.
    static func relative(_ name: [UInt8]) -> [UInt8] {
        Array(name.drop(while: { $0 == UInt8(ascii: "/") }))
    }

    static func display(_ name: [UInt8]) -> String { String(decoding: name, as: UTF8.self) }
}

/// A sink that keeps everything in memory (tests, small archives).
public struct CpioMemorySink: CpioByteSink {
    public private(set) var bytes: [UInt8] = []
    public init() {}
    public mutating func write(_ chunk: UnsafeRawBufferPointer) { bytes.append(contentsOf: chunk) }
}
