import LayerCompression

/// Layer compression as chosen on the command line; maps to the OCI media type suffix.
public enum LayerCompressionFormat: String, Sendable, CaseIterable {
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

    public init(_ compression: LayerCompressionFormat, downstream: Downstream, level: Int32? = nil) throws {
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
