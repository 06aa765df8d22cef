import LayerCompression

/// Layer compression as chosen on the command line; maps to the OCI media type suffix.
public enum LayerCompression: String, Sendable, CaseIterable {
    case none, gzip, zstd

    public var mediaType: String {
        switch self {
        case .none: return "application/vnd.oci.image.layer.v1.tar"
        case .gzip: return "application/vnd.oci.image.layer.v1.tar+gzip"
        case .zstd: return "application/vnd.oci.image.layer.v1.tar+zstd"
        }
    }
}

/// A sink that compresses into another sink. `finish` ends the compressed stream (after the tar's own finish).
public final class CompressingSink<Downstream: ByteSink>: ByteSink {
    private let compressor: StreamCompressor
    public private(set) var downstream: Downstream

    public init(_ compression: LayerCompression, downstream: Downstream, level: Int32? = nil) throws {
        guard let format = CompressionFormat(rawValue: compression.rawValue) else {
            throw CompressionError.initFailed(.gzip, "no compressor for '\(compression.rawValue)'")
        }
        compressor = try StreamCompressor(format, level: level)
        self.downstream = downstream
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try compressor.compress(bytes, finish: false) { try downstream.write($0) }
    }

    /// Compressed data stays inside the compressor until `finish`; there is nothing to push early.
    public func flush() throws {}

    public func finish() throws {
        try compressor.compress(UnsafeRawBufferPointer(start: nil, count: 0), finish: true) { try downstream.write($0) }
        try downstream.flush()
    }
}

/// A source that transparently decompresses gzip or zstd input and passes plain tar through unchanged.
public final class AutoDecompressingSource<Upstream: ByteSource>: ByteSource {
    private var upstream: Upstream
    private let decompressor: StreamDecompressor?
    private var pending: [UInt8] = []
    private var pendingStart = 0
    private let input: UnsafeMutableRawBufferPointer
    private var upstreamDone = false
    /// The compression found in the first bytes (nil: plain tar).
    public let detected: CompressionFormat?

    public init(_ upstream: Upstream) throws {
        self.upstream = upstream
        input = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)
        var head: [UInt8] = []
        while head.count < 4 {
            let count = try self.upstream.read(into: UnsafeMutableRawBufferPointer(rebasing: input[0..<(4 - head.count)]))
            if count == 0 { upstreamDone = true; break }
            head += UnsafeRawBufferPointer(rebasing: input[0..<count])
        }
        detected = CompressionFormat.detect(head)
        decompressor = try detected.map { try StreamDecompressor($0) }
        if let decompressor {
            try head.withUnsafeBytes { raw in try decompressor.decompress(raw) { pending += $0 } }
        } else {
            pending = head
        }
    }

    deinit { input.deallocate() }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while pendingStart == pending.count {
            pending.removeAll(keepingCapacity: true)
            pendingStart = 0
            if upstreamDone { return 0 }
            let count = try upstream.read(into: input)
            if count == 0 {
                upstreamDone = true
                if let decompressor, !decompressor.finished {
                    throw CompressionError.streamFailed(decompressor.format, "compressed stream ends early")
                }
                return 0
            }
            let chunk = UnsafeRawBufferPointer(rebasing: input[0..<count])
            if let decompressor {
                try decompressor.decompress(chunk) { pending += $0 }
            } else {
                // Plain input: hand the bytes through without an extra copy into `pending`.
                let direct = min(count, buffer.count)
                buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: chunk[0..<direct]))
                pending += chunk[direct...]
                return direct
            }
        }
        let count = min(buffer.count, pending.count - pendingStart)
        pending.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[pendingStart..<(pendingStart + count)])) }
        pendingStart += count
        return count
    }
}
