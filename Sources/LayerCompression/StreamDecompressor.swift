internal import CZlib
internal import CZstd
import TextSearch

/// Streaming decompressor for gzip and zstd that never holds more than the caller's output buffer: the caller
/// `supply`s compressed bytes, pulls plain bytes with `decompress(into:)` until `needsInput`, and calls `finish`
/// at the end of the compressed input.
///
/// Every gzip member and every zstd frame is decoded (`cat a.gz b.gz` and `zstd` multi-frame output are one
/// stream); a stream that stops inside a member or frame, or anything after the last one that is not another
/// member or frame, is an error naming its compressed byte offset. The zstd window is limited to 8 MiB
/// (`windowLogMax`), so a frame cannot make the decoder allocate more than that (zstd levels 1-19 stay within
/// it; `--ultra` levels and `--long` need more and are refused with a message saying so).
public final class StreamDecompressor {
    public enum Limits {
        /// log2 of the largest zstd window accepted: 8 MiB.
        public static let zstdWindowLog: Int32 = 23
    }

    public let format: CompressionFormat
    private var zlib = z_stream()
    private var zstd: OpaquePointer?
    /// The library call that frees this stream's state, chosen by `init`. `deinit` calls it through this pointer,
    /// not by name: a class's metadata keeps its deinit in every binary that links the module, so a direct
    /// `inflateEnd`/`ZSTD_freeDCtx` there would keep zlib's inflate and libzstd's whole decoder (about 240 KB) in
    /// the node's /init, which only compresses. Only `init` and the decoding methods name the decoders, and the
    /// linker drops those from a binary that never creates a `StreamDecompressor`.
    private let release: Release

    private enum Release {
        case zlib(@convention(c) (z_streamp?) -> Int32)
        case zstd(@convention(c) (OpaquePointer?) -> Int)
    }
    private var zstdInput = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
    /// Compressed bytes supplied before the current input buffer.
    private var suppliedBefore: Int64 = 0
    /// The last call filled the whole output: the library may hold more output for the same input.
    private var outputMayBePending = false
    /// Between two gzip members or zstd frames (also before the first): the end of input is fine here.
    public private(set) var atBoundary = true
    /// Compressed offset where the current member or frame began.
    private var unitStart: Int64 = 0
    /// Members or frames completely decoded.
    public private(set) var completedUnits = 0

    /// A convenience init, so that the class's metadata holds no method descriptor for it (a designated init gets
    /// one), which would keep it, and through it the decoders, in every binary that links this module.
    public convenience init(_ format: CompressionFormat) throws {
        switch format {
        case .gzip:
            // inflateEnd on a stream whose inflateInit2 failed is harmless (Z_STREAM_ERROR, nothing freed).
            self.init(format: format, release: .zlib(inflateEnd))
            let status = nodeinit_inflate_init_gzip(&zlib)
            guard status == Z_OK else { throw CompressionError.initFailed(format, "inflateInit2 \(status)") }
        case .zstd:
            self.init(format: format, release: .zstd(ZSTD_freeDCtx))
            guard let context = ZSTD_createDCtx() else { throw CompressionError.initFailed(format, "ZSTD_createDCtx") }
            zstd = context
            let result = ZSTD_DCtx_setParameter(context, ZSTD_d_windowLogMax, Limits.zstdWindowLog)
            if ZSTD_isError(result) != 0 {
                throw CompressionError.initFailed(format, String(cString: ZSTD_getErrorName(result)))
            }
        }
    }

    private init(format: CompressionFormat, release: Release) {
        self.format = format
        self.release = release
    }

    deinit {
        switch release {
        case .zlib(let end): _ = end(&zlib)
        case .zstd(let free): _ = free(zstd)
        }
    }

    /// Compressed bytes consumed so far (the offset of the next unread compressed byte).
    public var consumed: Int64 {
        switch format {
        case .gzip: suppliedBefore + Int64(inputSize) - Int64(zlib.avail_in)
        case .zstd: suppliedBefore + Int64(zstdInput.pos)
        }
    }

    private var inputSize = 0

    /// True when every supplied byte was consumed and no output is held back: supply more (or `finish`).
    public var needsInput: Bool {
        if outputMayBePending { return false }
        switch format {
        case .gzip: return zlib.avail_in == 0
        case .zstd: return zstdInput.pos == zstdInput.size
        }
    }

    /// Hands over the next compressed bytes. They must stay valid and unchanged until `needsInput` is true.
    public func supply(_ input: UnsafeRawBufferPointer) {
        suppliedBefore = consumed
        inputSize = input.count
        switch format {
        case .gzip:
            zlib.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
            zlib.avail_in = uInt(input.count)
        case .zstd:
            zstdInput = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        }
    }

    /// Writes up to `output.count` plain bytes; 0 only when `needsInput`.
    public func decompress(into output: UnsafeMutableRawBufferPointer) throws -> Int {
        guard output.count > 0 else { return 0 }
        while true {
            let produced: Int
            switch format {
            case .gzip: produced = try inflateStep(output)
            case .zstd: produced = try zstdStep(output)
            }
            if produced > 0 || needsInput { return produced }
        }
    }

    /// The compressed input ended: an error unless it ended between members or frames.
    public func finish() throws {
        guard atBoundary else {
            let unit = format == .gzip ? "member" : "frame"
            throw CompressionError.streamFailed(
                format,
                "compressed stream ends at byte \(consumed) inside the \(unit) that starts at byte \(unitStart) (truncated)"
            )
        }
        guard completedUnits > 0 else {
            throw CompressionError.streamFailed(
                format, "compressed stream holds no complete \(format == .gzip ? "member" : "frame")")
        }
    }

    private func inflateStep(_ output: UnsafeMutableRawBufferPointer) throws -> Int {
        if atBoundary {
            guard zlib.avail_in > 0 else { return 0 }
            if completedUnits > 0 {
                let status = inflateReset(&zlib)
                guard status == Z_OK else { throw CompressionError.streamFailed(.gzip, "inflateReset \(status)") }
            }
            unitStart = consumed
            atBoundary = false
        }
        zlib.next_out = output.baseAddress?.assumingMemoryBound(to: Bytef.self)
        zlib.avail_out = uInt(output.count)
        let status = inflate(&zlib, Z_NO_FLUSH)
        let produced = output.count - Int(zlib.avail_out)
        outputMayBePending = zlib.avail_out == 0
        switch status {
        case Z_OK, Z_BUF_ERROR:
            return produced
        case Z_STREAM_END:
            atBoundary = true
            completedUnits += 1
            outputMayBePending = false
            return produced
        default:
            let message = zlib.msg.map { String(cString: $0) } ?? "inflate \(status)"
            if completedUnits > 0 && consumed - unitStart <= 10 && message.containsBytes("header") {
                throw CompressionError.streamFailed(
                    .gzip,
                    "trailing garbage at compressed byte \(unitStart), after \(completedUnits) complete gzip member(s)")
            }
            throw CompressionError.streamFailed(
                .gzip, "\(message) in the member that starts at compressed byte \(unitStart)")
        }
    }

    private func zstdStep(_ output: UnsafeMutableRawBufferPointer) throws -> Int {
        if atBoundary {
            guard zstdInput.pos < zstdInput.size else { return 0 }
            unitStart = consumed
            atBoundary = false
        }
        var target = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
        let hint = ZSTD_decompressStream(zstd, &target, &zstdInput)
        if ZSTD_isError(hint) != 0 {
            let code = ZSTD_getErrorCode(hint)
            let name = String(cString: ZSTD_getErrorName(hint))
            if code == ZSTD_error_prefix_unknown && completedUnits > 0 {
                throw CompressionError.streamFailed(
                    .zstd,
                    "trailing garbage at compressed byte \(unitStart), after \(completedUnits) complete zstd frame(s)")
            }
            if code == ZSTD_error_frameParameter_windowTooLarge {
                throw CompressionError.streamFailed(
                    .zstd,
                    "the frame that starts at compressed byte \(unitStart) needs a window over "
                        + "\(1 << (Limits.zstdWindowLog - 20)) MiB (made with --long or --ultra?); refused to bound memory"
                )
            }
            throw CompressionError.streamFailed(
                .zstd, "\(name) in the frame that starts at compressed byte \(unitStart)")
        }
        outputMayBePending = target.pos == target.size
        if hint == 0 {
            atBoundary = true
            completedUnits += 1
            outputMayBePending = false
        }
        return target.pos
    }
}
