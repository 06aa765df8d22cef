import LayerCompression
import OverlayCapture

/// A source that transparently decompresses gzip or zstd input and passes plain tar through unchanged.
///
/// Memory stays fixed whatever the expansion ratio: one input buffer, and plain bytes are decoded straight
/// into the caller's buffer, never more than it asked for (a 100 KB layer expanding to gigabytes of zeros
/// costs no more than a plain one). Every gzip member and zstd frame is read; a stream cut inside one, or
/// followed by garbage, fails with the compressed offset (see `StreamDecompressor`).
public final class AutoDecompressingSource<Upstream: ByteSource>: ByteSource {
    private var upstream: Upstream
    private let decompressor: StreamDecompressor?
    private let input: UnsafeMutableRawBufferPointer
    /// Plain input read while detecting the format and not handed out yet.
    private var head: [UInt8] = []
    private var headStart = 0
    private var upstreamDone = false
    /// The compression found in the first bytes (nil: plain tar).
    public let detected: CompressionFormat?

    public init(_ upstream: Upstream, bufferSize: Int = 256 * 1024) throws {
        self.upstream = upstream
        input = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bufferSize, 16), alignment: 16)
        var filled = 0
        while filled < 4 {
            let count = try self.upstream.read(into: UnsafeMutableRawBufferPointer(rebasing: input[filled..<4]))
            if count == 0 { upstreamDone = true; break }
            filled += count
        }
        let prefix = Array(UnsafeRawBufferPointer(rebasing: input[0..<filled]))
        detected = CompressionFormat.detect(prefix)
        do {
            decompressor = try detected.map { try StreamDecompressor($0) }
        } catch {
            input.deallocate()
            throw error
        }
        if let decompressor {
            decompressor.supply(UnsafeRawBufferPointer(rebasing: input[0..<filled]))
        } else {
            head = prefix
        }
    }

    deinit { input.deallocate() }

    /// Compressed bytes consumed so far (nil for plain input).
    public var compressedOffset: Int64? { decompressor?.consumed }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        guard let decompressor else {
            if headStart < head.count {
                let count = min(buffer.count, head.count - headStart)
                head.withUnsafeBytes {
                    buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[headStart..<(headStart + count)]))
                }
                headStart += count
                return count
            }
            if upstreamDone { return 0 }
            let count = try upstream.read(into: buffer)
            if count == 0 { upstreamDone = true }
            return count
        }
        while true {
            let produced = try decompressor.decompress(into: buffer)
            if produced > 0 { return produced }
            if upstreamDone {
                try decompressor.finish()
                return 0
            }
            let count = try upstream.read(into: input)
            if count == 0 {
                upstreamDone = true
            } else {
                decompressor.supply(UnsafeRawBufferPointer(rebasing: input[0..<count]))
            }
        }
    }
}
