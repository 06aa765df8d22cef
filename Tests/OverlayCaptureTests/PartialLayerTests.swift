import Foundation
import LayerCompression
import NodeSys
import SystemPackage
import Testing

@testable import LayerApply
@testable import OverlayCapture

#if canImport(Glibc)
    import Glibc
#endif

/// Layers that are cut short, concatenated or padded with garbage: every member and frame must be read, and
/// anything incomplete must fail with the offset, never read as a shorter layer that looks complete.
struct PartialLayerTests {
    static let entries: [(TarEntry, [UInt8])] = (0..<40).map { index in
        let data = Array(String(repeating: "file \(index) ", count: 200 + index * 37).utf8)
        return (TarEntry(path: "dir/f\(index)", kind: .regular, permissions: 0o644, size: Int64(data.count)), data)
    }

    static func compress(_ bytes: [UInt8], _ compression: LayerCompressionFormat) throws -> [UInt8] {
        let sink = try CompressingSink(compression, downstream: MemorySink())
        try bytes.withUnsafeBytes { try sink.write($0) }
        try sink.finish()
        return sink.downstream.bytes
    }

    /// Everything the source yields, read in odd-sized pieces.
    static func drain(_ bytes: [UInt8], piece: Int = 777) throws -> [UInt8] {
        let source = try AutoDecompressingSource(MemorySource(bytes))
        var back: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: piece)
        while true {
            let count = try chunk.withUnsafeMutableBytes { try source.read(into: $0) }
            if count == 0 { return back }
            back += chunk[0..<count]
        }
    }

    static func names(_ bytes: [UInt8]) throws -> [String] {
        var reader = TarReader(source: try AutoDecompressingSource(MemorySource(bytes)))
        defer { reader.close() }
        var names: [String] = []
        while let entry = try reader.next() { names.append(entry.path.description) }
        return names
    }

    static func message(_ body: () throws -> Void) -> String {
        do { try body() } catch { return "\(error)" }
        return "no error"
    }

    @Test(arguments: [LayerCompressionFormat.gzip, .zstd])
    func everyMemberOrFrameIsDecoded(_ compression: LayerCompressionFormat) throws {
        let plain = try TestSupport.tar(Self.entries)
        // Cut in three, not on a block boundary: `cat a.gz b.gz c.gz` and zstd multi-frame output.
        let cuts = [0, 5000, 11111, plain.count]
        var joined: [UInt8] = []
        for index in 0..<3 { joined += try Self.compress(Array(plain[cuts[index]..<cuts[index + 1]]), compression) }
        #expect(try Self.drain(joined) == plain)
        #expect(try Self.drain(joined, piece: 1 << 20) == plain)
        #expect(try Self.names(joined).count == Self.entries.count)
    }

    @Test(arguments: [LayerCompressionFormat.gzip, .zstd])
    func truncatedMemberOrFrameNamesTheOffset(_ compression: LayerCompressionFormat) throws {
        let plain = try TestSupport.tar(Self.entries)
        let first = try Self.compress(Array(plain[0..<6000]), compression)
        let second = try Self.compress(Array(plain[6000...]), compression)
        let cut = Array((first + second).dropLast(9))
        let text = Self.message { _ = try Self.drain(cut) }
        #expect(text.contains("truncated"), "\(text)")
        #expect(text.contains("starts at byte \(first.count)"), "\(text)")
    }

    @Test(arguments: [LayerCompressionFormat.gzip, .zstd])
    func trailingGarbageNamesTheOffset(_ compression: LayerCompressionFormat) throws {
        let compressed = try Self.compress(try TestSupport.tar(Self.entries), compression)
        for garbage in [Array("not a member".utf8), [UInt8](repeating: 0, count: 1024)] {
            let text = Self.message { _ = try Self.drain(compressed + garbage) }
            #expect(text.contains("trailing garbage at compressed byte \(compressed.count)"), "\(text)")
        }
    }

    @Test func zstdFrameNeedingAHugeWindowIsRefused() throws {
        let plain = try TestSupport.tar(Self.entries)
        let compressed = Array(try TestSupport.run(["zstd", "-q", "-c", "--long=27"], input: Data(plain)))
        let text = Self.message { _ = try Self.drain(compressed) }
        #expect(text.contains("window over 8 MiB"), "\(text)")
    }

    /// The archive cut right after its last member's data, on a block boundary (no end-of-archive blocks).
    static func cutAtBlockBoundary() throws -> [UInt8] {
        let plain = try TestSupport.tar(Self.entries)
        let withoutEnd = Array(plain.prefix(plain.count - 1024).reversed().drop(while: { $0 == 0 }).reversed())
        return Array(plain.prefix((withoutEnd.count + 511) / 512 * 512))
    }

    @Test func tarCutAtABlockBoundaryIsAnError() throws {
        let bytes = try Self.cutAtBlockBoundary()
        let cut = bytes.count
        let text = Self.message { _ = try Self.names(bytes) }
        #expect(text.contains("without its end-of-archive marker"), "\(text)")
        #expect(text.contains("at byte \(cut)"), "\(text)")
        // The same, compressed: the compressed stream is complete, the tar inside is not.
        let zstdText = Self.message { _ = try Self.names(try Self.compress(bytes, .zstd)) }
        #expect(zstdText.contains("without its end-of-archive marker"), "\(zstdText)")
        // One zero block only.
        let lone = Self.message { _ = try Self.names(bytes + [UInt8](repeating: 0, count: 512)) }
        #expect(lone.contains("without its end-of-archive marker"), "\(lone)")
    }

    @Test func applyOfATruncatedTarFailsInsteadOfExitingCleanly() throws {
        let bytes = try Self.cutAtBlockBoundary()
        let base = try TestSupport.makeTempDirectory("partial")
        defer { try? FileManager.default.removeItem(atPath: base) }
        let text = Self.message { _ = try LayerApplier.apply(MemorySource(bytes), to: FilePath(base)) }
        #expect(text.contains("end-of-archive"), "\(text)")
    }

    @Test func zerosAfterTheEndAreFineDataIsNot() throws {
        let plain = try TestSupport.tar(Self.entries)
        #expect(try Self.names(plain + [UInt8](repeating: 0, count: 10240)).count == Self.entries.count)
        // A second archive appended: GNU tar would silently stop at the first end marker.
        let second = try TestSupport.tar([Self.entries[0]])
        let text = Self.message { _ = try Self.names(plain + second) }
        #expect(text.contains("non-zero data at byte \(plain.count)"), "\(text)")
    }
}

/// A decompression bomb must stream through fixed buffers: run in a child process whose data segment
/// may grow by at most 64 MiB, decoding 256 MiB of zeros (gzip and zstd) as a layer.
struct DecompressionBombTests {
    static func dataSegmentBytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmData:") {
            let fields = line.split(separator: " ")
            if fields.count >= 2, let kib = Int(fields[1]) { return kib * 1024 }
        }
        return nil
    }

    @Test func bombDecodesUnderAMemoryLimit() async {
        await #expect(processExitsWith: .success) {
            for compression in [LayerCompressionFormat.gzip, .zstd] {
                // 256 MiB of zeros: compressed, 250 KB (gzip) or a few KB (zstd).
                let sink = try CompressingSink(compression, downstream: MemorySink(), level: 1)
                let zeros = [UInt8](repeating: 0, count: 1 << 20)
                for _ in 0..<256 { try zeros.withUnsafeBytes { try sink.write($0) } }
                try sink.finish()
                let bomb = sink.downstream.bytes
                guard let used = DecompressionBombTests.dataSegmentBytes() else { exit(3) }
                var limit = rlimit()
                guard getrlimit(Int32(RLIMIT_DATA.rawValue), &limit) == 0 else { exit(4) }
                let previous = limit.rlim_cur
                limit.rlim_cur = rlim_t(used + 64 << 20)
                guard setrlimit(Int32(RLIMIT_DATA.rawValue), &limit) == 0 else { exit(4) }
                var reader = TarReader(source: try AutoDecompressingSource(MemorySource(bomb)))
                defer { reader.close() }
                // All zeros: an empty archive followed by zero padding, read to its end.
                guard try reader.next() == nil, reader.offset == 256 << 20 else { exit(5) }
                limit.rlim_cur = previous
                _ = setrlimit(Int32(RLIMIT_DATA.rawValue), &limit)
            }
        }
    }
}
