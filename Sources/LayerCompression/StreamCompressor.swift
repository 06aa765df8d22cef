internal import CZlib
internal import CZstd

/// The compressions an OCI layer may use (`+gzip`, `+zstd`).
public enum CompressionFormat: String, Sendable, CaseIterable {
    case gzip, zstd

    /// Recognises a compressed stream from its first bytes (gzip 1f 8b, zstd 28 b5 2f fd).
    public static func detect(_ prefix: [UInt8]) -> CompressionFormat? {
        if prefix.count >= 2, prefix[0] == 0x1f, prefix[1] == 0x8b { return .gzip }
        if prefix.count >= 4, prefix[0] == 0x28, prefix[1] == 0xb5, prefix[2] == 0x2f, prefix[3] == 0xfd {
            return .zstd
        }
        return nil
    }
}

public enum CompressionError: Error, CustomStringConvertible, Equatable {
    case initFailed(CompressionFormat, String)
    case streamFailed(CompressionFormat, String)

    public var description: String {
        switch self {
        case .initFailed(let format, let message): return "\(format) setup failed: \(message)"
        case .streamFailed(let format, let message): return "\(format) stream error: \(message)"
        }
    }
}

/// Streaming compressor over zlib (gzip framing) or libzstd, with a fixed output buffer.
public final class StreamCompressor {
    public let format: CompressionFormat
    private var zlib = z_stream()
    private var zstd: OpaquePointer?
    private let output: UnsafeMutableRawBufferPointer

    /// `level`: nil for the library default (gzip 6, zstd 3). `workers`: zstd compression threads besides the
    /// caller's (0: none, as before; ignored by gzip and by a libzstd built without threads). With workers the
    /// output is the same for any worker count, but differs from the single-threaded stream.
    public init(_ format: CompressionFormat, level: Int32? = nil, workers: Int32 = 0) throws {
        self.format = format
        output = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)
        switch format {
        case .gzip:
            let status = nodeinit_deflate_init_gzip(&zlib, level ?? Z_DEFAULT_COMPRESSION)
            guard status == Z_OK else {
                output.deallocate(); throw CompressionError.initFailed(format, "deflateInit2 \(status)")
            }
        case .zstd:
            guard let context = ZSTD_createCCtx() else {
                output.deallocate()
                throw CompressionError.initFailed(format, "ZSTD_createCCtx")
            }
            zstd = context
            let result = ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level ?? 3)
            if ZSTD_isError(result) != 0 {
                throw CompressionError.initFailed(format, String(cString: ZSTD_getErrorName(result)))
            }
            if workers > 0 {
                // An error here means a libzstd without ZSTD_MULTITHREAD: compress on this thread instead.
                _ = ZSTD_CCtx_setParameter(context, ZSTD_c_nbWorkers, workers)
            }
        }
    }

    deinit {
        switch format {
        case .gzip: deflateEnd(&zlib)
        case .zstd: ZSTD_freeCCtx(zstd)
        }
        output.deallocate()
    }

    /// Compresses `input`; with `finish` also ends the stream. Compressed bytes go to `emit` as they are produced.
    public func compress(
        _ input: UnsafeRawBufferPointer, finish: Bool, emit: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        switch format {
        case .gzip: try deflateChunk(input, finish: finish, emit: emit)
        case .zstd: try zstdChunk(input, finish: finish, emit: emit)
        }
    }

    private func deflateChunk(
        _ input: UnsafeRawBufferPointer, finish: Bool, emit: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        zlib.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        zlib.avail_in = uInt(input.count)
        while true {
            zlib.next_out = output.baseAddress?.assumingMemoryBound(to: Bytef.self)
            zlib.avail_out = uInt(output.count)
            let status = deflate(&zlib, finish ? Z_FINISH : Z_NO_FLUSH)
            guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
                throw CompressionError.streamFailed(.gzip, "deflate \(status)")
            }
            let produced = output.count - Int(zlib.avail_out)
            if produced > 0 { try emit(UnsafeRawBufferPointer(rebasing: output[0..<produced])) }
            if finish ? status == Z_STREAM_END : (zlib.avail_in == 0 && zlib.avail_out > 0) { break }
        }
    }

    private func zstdChunk(
        _ input: UnsafeRawBufferPointer, finish: Bool, emit: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        var source = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        while true {
            var target = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
            let remaining = ZSTD_compressStream2(zstd, &target, &source, finish ? ZSTD_e_end : ZSTD_e_continue)
            if ZSTD_isError(remaining) != 0 {
                throw CompressionError.streamFailed(.zstd, String(cString: ZSTD_getErrorName(remaining)))
            }
            if target.pos > 0 { try emit(UnsafeRawBufferPointer(rebasing: output[0..<target.pos])) }
            if finish ? remaining == 0 : source.pos == source.size { break }
        }
    }
}
