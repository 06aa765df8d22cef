internal import CZlib
internal import CZstd

/// Streaming decompressor for gzip (also zlib framing) and zstd, with a fixed output buffer.
public final class StreamDecompressor {
    public let format: CompressionFormat
    private var zlib = z_stream()
    private var zstd: OpaquePointer?
    private let output: UnsafeMutableRawBufferPointer
    /// True once the compressed stream's end marker was seen.
    public private(set) var finished = false

    public init(_ format: CompressionFormat) throws {
        self.format = format
        output = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)
        switch format {
        case .gzip:
            let status = nodeinit_inflate_init_auto(&zlib)
            guard status == Z_OK else { output.deallocate(); throw CompressionError.initFailed(format, "inflateInit2 \(status)") }
        case .zstd:
            guard let context = ZSTD_createDCtx() else {
                output.deallocate()
                throw CompressionError.initFailed(format, "ZSTD_createDCtx")
            }
            zstd = context
        }
    }

    deinit {
        switch format {
        case .gzip: inflateEnd(&zlib)
        case .zstd: ZSTD_freeDCtx(zstd)
        }
        output.deallocate()
    }

    /// Decompresses all of `input`, passing plain bytes to `emit`. Bytes after the end of the stream are ignored.
    public func decompress(_ input: UnsafeRawBufferPointer, emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        switch format {
        case .gzip:
            zlib.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
            zlib.avail_in = uInt(input.count)
            var outputFull = false
            while !finished && (zlib.avail_in > 0 || outputFull) {
                zlib.next_out = output.baseAddress?.assumingMemoryBound(to: Bytef.self)
                zlib.avail_out = uInt(output.count)
                let status = inflate(&zlib, Z_NO_FLUSH)
                guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
                    let message = zlib.msg.map { String(cString: $0) } ?? "inflate \(status)"
                    throw CompressionError.streamFailed(.gzip, message)
                }
                let produced = output.count - Int(zlib.avail_out)
                if produced > 0 { try emit(UnsafeRawBufferPointer(rebasing: output[0..<produced])) }
                outputFull = zlib.avail_out == 0
                if status == Z_STREAM_END { finished = true }
                if status == Z_BUF_ERROR && produced == 0 { break }
            }
        case .zstd:
            var source = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
            var outputFull = false
            while !finished && (source.pos < source.size || outputFull) {
                var target = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
                let hint = ZSTD_decompressStream(zstd, &target, &source)
                if ZSTD_isError(hint) != 0 {
                    throw CompressionError.streamFailed(.zstd, String(cString: ZSTD_getErrorName(hint)))
                }
                if target.pos > 0 { try emit(UnsafeRawBufferPointer(rebasing: output[0..<target.pos])) }
                outputFull = target.pos == target.size
                if hint == 0 { finished = true }
            }
        }
    }
}
