import NodeSys
import SystemPackage

/// Streams tar members into a `ByteSink`: `append` a header, feed exactly `size` data bytes, `finishEntry`,
/// and `finish` once at the end. Holds no more than one header in memory.
public struct TarWriter<Sink: ByteSink> {
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case entryStillOpen(path: PathBytes, missingBytes: Int64)
        case dataBeyondSize(path: PathBytes, size: Int64)
        case noOpenEntry

        public var description: String {
            switch self {
            case .entryStillOpen(let path, let missing):
                return "tar entry '\(DisplayText.safe(path))' still expects \(missing) data bytes"
            case .dataBeyondSize(let path, let size):
                return "tar entry '\(DisplayText.safe(path))' got more data than its header size \(size)"
            case .noOpenEntry:
                return "tar data written without an entry header"
            }
        }
    }

    public var sink: Sink
    private var openPath: PathBytes?
    private var headerBuffer: [UInt8] = []
    private var recordBuffer: [UInt8] = []
    private var openSize: Int64 = 0
    private var remaining: Int64 = 0
    /// Total bytes of tar stream produced (headers, data, padding, end blocks).
    public private(set) var streamBytes: Int64 = 0

    public init(sink: Sink) {
        self.sink = sink
    }

    /// Writes the header(s) for `entry`; regular files must then receive `entry.size` bytes of data.
    public mutating func append(_ entry: TarEntry) throws {
        if let path = openPath {
            if remaining > 0 { throw Error.entryStillOpen(path: path, missingBytes: remaining) }
            try finishEntry()
        }
        headerBuffer.removeAll(keepingCapacity: true)
        TarHeader.encode(entry, into: &headerBuffer, scratch: &recordBuffer)
        try headerBuffer.withUnsafeBytes { try sink.write($0) }
        streamBytes += Int64(headerBuffer.count)
        openPath = entry.path
        openSize = entry.dataSize
        remaining = entry.dataSize
    }

    public mutating func appendData(_ bytes: UnsafeRawBufferPointer) throws {
        guard let path = openPath else { throw Error.noOpenEntry }
        guard Int64(bytes.count) <= remaining else { throw Error.dataBeyondSize(path: path, size: openSize) }
        try sink.write(bytes)
        remaining -= Int64(bytes.count)
        streamBytes += Int64(bytes.count)
    }

    /// Appends up to `count` bytes of `file` from `offset` by in-kernel copy when the sink supports it.
    /// Returns the bytes appended (fewer when the file ended early), or nil when the caller must copy itself.
    public mutating func appendFileData(from file: FileDescriptor, offset: Int64, count: Int64, path: String) throws
        -> Int64?
    {
        guard let openPath else { throw Error.noOpenEntry }
        guard count <= remaining else { throw Error.dataBeyondSize(path: openPath, size: openSize) }
        guard let copier = sink as? any FileCopyingSink,
            let copied = try copier.copy(from: file, offset: offset, count: count, path: path)
        else { return nil }
        remaining -= copied
        streamBytes += copied
        return copied
    }

    /// Appends `count` zero bytes of data (holes, or the rest of a file that shrank while read).
    public mutating func appendZeros(_ count: Int64) throws {
        var left = count
        while left > 0 {
            let chunk = Int(min(left, Int64(TarWriter.zeros.count)))
            try TarWriter.zeros.withUnsafeBytes { try appendData(UnsafeRawBufferPointer(rebasing: $0[0..<chunk])) }
            left -= Int64(chunk)
        }
    }

    /// Data bytes the open entry still expects.
    public var remainingData: Int64 { remaining }

    /// Pads the open entry to a block boundary. Fails if the entry is missing data.
    public mutating func finishEntry() throws {
        guard let path = openPath else { return }
        if remaining > 0 { throw Error.entryStillOpen(path: path, missingBytes: remaining) }
        let pad = TarHeader.padding(openSize)
        if pad > 0 {
            try TarWriter.zeros.withUnsafeBytes { try sink.write(UnsafeRawBufferPointer(rebasing: $0[0..<pad])) }
            streamBytes += Int64(pad)
        }
        openPath = nil
        openSize = 0
    }

    /// Closes the open entry, writes the two zero blocks ending the archive and flushes the sink.
    public mutating func finish() throws {
        try finishEntry()
        try TarWriter.zeros.withUnsafeBytes {
            try sink.write(UnsafeRawBufferPointer(rebasing: $0[0..<(2 * TarHeader.blockSize)]))
        }
        streamBytes += Int64(2 * TarHeader.blockSize)
        try sink.flush()
    }

    private static var zeros: [UInt8] { zeroBlock }
}

private let zeroBlock = [UInt8](repeating: 0, count: 64 * 1024)
