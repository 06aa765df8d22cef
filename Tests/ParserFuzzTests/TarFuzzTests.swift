import LayerCompression
import NodeSys
import TestSupport
import Testing

@testable import LayerApply
@testable import OverlayCapture

/// The layer reader (`nodeinit apply`, `pull`, `save` read layers a hostile node wrote): valid archives built by
/// TarWriter from random entries (byte names, long names and links, big ids, xattrs, sub-second times), then
/// mutated: header bytes changed with the checksum fixed up so parsing goes past it, hostile PAX records
/// injected, or raw byte edits and truncations. Whatever is accepted must re-render and parse to the same entries.
@Suite struct TarFuzzTests {
    typealias Member = (entry: TarEntry, data: [UInt8])

    static let nameBytes: [UInt8] = Array("ab./-_.wh.".utf8) + [0xff, 0xfe, 0x0a, 0x5c, 0xc3, 0xa9, 0x20, 0x7f]
    static let paxAlphabet: [UInt8] =
        Array("0123456789 =\npathlinkuidgidsizemtime.-SCHILY.xattr.hdrcharsetBINARY".utf8) + [0, 0xff]
    static let hostilePax: [(String, [UInt8])] = [
        ("uid", Array("4294967296".utf8)), ("gid", Array("-1".utf8)), ("size", Array("99999999999999999999".utf8)),
        ("size", Array("12a".utf8)), ("mtime", Array("-1.5".utf8)), ("mtime", Array("1e9".utf8)), ("path", [0xff, 0]),
        ("path", Array("../x".utf8)), ("linkpath", Array(repeating: UInt8(ascii: "l"), count: 300)),
        ("hdrcharset", Array("BINARY".utf8)), ("GNU.sparse.map", Array("0,1".utf8)), ("uid", []),
        ("SCHILY.xattr.user.x", [0, 1, 2]), ("size", Array("-0".utf8)), ("uid", Array("18446744073709551616".utf8)),
    ]

    static func name(_ random: inout SplitMix64) -> PathBytes {
        var bytes: [UInt8] = []
        let components = 1 + random.below(4)
        for index in 0..<components {
            if index > 0 { bytes.append(UInt8(ascii: "/")) }
            let length = random.next() % 16 == 0 ? 60 + random.below(200) : 1 + random.below(12)
            bytes += (0..<length).map { _ in nameBytes[random.below(nameBytes.count)] }
        }
        return PathBytes(bytes)
    }

    static func member(_ random: inout SplitMix64) -> Member {
        let path = name(&random)
        var data: [UInt8] = []
        let kind: TarEntry.Kind
        switch random.below(8) {
        case 0: kind = .directory
        case 1: kind = .symlink(target: name(&random))
        case 2: kind = .hardLink(target: name(&random))
        case 3:
            kind = .characterDevice(major: UInt32(truncatingIfNeeded: random.next()), minor: UInt32(random.below(300)))
        case 4: kind = .fifo
        default:
            kind = .regular
            data = (0..<random.below(1200)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        }
        let bigId = random.next() % 8 == 0
        var entry = TarEntry(
            path: path, kind: kind, permissions: UInt32(random.below(0o10000)),
            uid: bigId ? UInt32(truncatingIfNeeded: random.next()) : UInt32(random.below(70000)),
            gid: UInt32(random.below(70000)), userName: random.next() % 4 == 0 ? "user\(random.below(100))" : "",
            groupName: random.next() % 16 == 0 ? String(repeating: "g", count: 40) : "", size: Int64(data.count),
            modified: FileTimestamp(
                seconds: Int64(random.below(1 << 34)) - (1 << 20),
                nanoseconds: random.next() % 2 == 0 ? 0 : Int32(random.below(1_000_000_000))))
        if random.next() % 4 == 0 {
            entry.xattrs = [
                ExtendedAttribute(
                    name: "user.k\(random.below(9))",
                    value: (0..<random.below(40)).map { _ in UInt8(truncatingIfNeeded: random.next()) })
            ]
        }
        return (entry, data)
    }

    /// A valid archive and the offsets of its header blocks (where a checksum lives).
    static func archive(_ members: [Member]) throws -> (bytes: [UInt8], headers: [Int]) {
        var writer = TarWriter(sink: MemorySink())
        var headers: [Int] = []
        for (entry, data) in members {
            try writer.finishEntry()
            let start = Int(writer.streamBytes)
            try writer.append(entry)
            let headerBytes = Int(writer.streamBytes) - start
            headers.append(start)
            if headerBytes > TarHeader.blockSize { headers.append(start + headerBytes - TarHeader.blockSize) }
            try data.withUnsafeBytes { try writer.appendData($0) }
        }
        try writer.finish()
        return (writer.sink.bytes, headers)
    }

    static func fixChecksum(_ bytes: inout [UInt8], at offset: Int) {
        guard offset + TarHeader.blockSize <= bytes.count else { return }
        for index in (offset + 148)..<(offset + 156) { bytes[index] = 0x20 }
        let sum = bytes[offset..<(offset + TarHeader.blockSize)].reduce(0) { $0 + Int($1) }
        bytes.replaceSubrange((offset + 148)..<(offset + 155), with: TarHeader.numericField(Int64(sum), width: 7))
    }

    /// An `x` header carrying `records`, for an entry to follow.
    static func paxHeader(_ records: [(String, [UInt8])]) -> [UInt8] {
        var pax: [UInt8] = []
        for (key, value) in records { pax += TarHeader.paxRecord(key: key, value: value) }
        var out: [UInt8] = []
        TarHeader.appendUstar(
            &out, path: Array("PaxHeaders/x".utf8), split: 0, typeflag: UInt8(ascii: "x"),
            permissions: 0o644, uid: 0, gid: 0, size: Int64(pax.count), mtimeSeconds: 0, linkname: [], userName: "",
            groupName: "", major: 0, minor: 0)
        return out + pax + [UInt8](repeating: 0, count: TarHeader.padding(Int64(pax.count)))
    }

    /// Reads every member and its data; nil when the reader refused the stream (with its own error type).
    static func read(_ bytes: [UInt8]) -> [Member]? {
        read(from: MemorySource(bytes), inputBytes: bytes.count)
    }

    /// The same for any source; `inputBytes` bounds the data a plain stream can hold (a compressed one can
    /// expand: pass nil).
    static func read<Source: ByteSource>(from source: Source, inputBytes: Int?) -> [Member]? {
        var reader = TarReader(source: source)
        defer { reader.close() }
        let dataLimit = inputBytes ?? Int.max
        let memberLimit = (inputBytes ?? (1 << 30)) / TarHeader.blockSize
        var members: [Member] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        do {
            while let entry = try reader.next() {
                var data: [UInt8] = []
                while true {
                    let count = try buffer.withUnsafeMutableBytes { try reader.readData(into: $0) }
                    if count == 0 { break }
                    data += buffer[0..<count]
                    if data.count > dataLimit { Issue.record("more data than the input holds") }
                }
                // Plain checks, not #expect, in the hot loop: a million #expect calls dominate a debug run.
                if Int64(data.count) != entry.size {
                    Issue.record("entry data \(data.count) bytes, size \(entry.size)")
                }
                members.append((entry, data))
                if members.count > memberLimit { Issue.record("more members than header blocks") }
            }
            return members
        } catch is TarReader<Source>.Error {
            return nil
        } catch is CompressionError {
            return nil  // a gzip member or zstd frame cut, corrupted or followed by garbage
        } catch {
            Issue.record("tar reader threw an error that is not TarReader.Error: \(error)")
            return nil
        }
    }

    @Test func generatedLayers() throws {
        var failures = 0
        FuzzRun.run("tar", inputs: FuzzRun.count(10_000), minimumAccepted: 2_000, minimumRejected: 2_000) {
            random, tally in
            let members = (0..<random.below(4)).map { _ in Self.member(&random) }
            guard var (bytes, headers) = try? Self.archive(members) else {
                Issue.record("TarWriter refused generated entries")
                return
            }
            let original = bytes
            switch random.below(5) {
            case 0:
                break  // the valid archive itself
            case 1, 2:
                // Header fields edited in place, checksum made right again: reaches the field parsers.
                if let header = headers.randomElement(using: &random) {
                    for _ in 0..<(1 + random.below(3)) {
                        let position = header + random.below(TarHeader.blockSize)
                        if position < bytes.count {
                            bytes[position] =
                                random.next() % 2 == 0
                                ? Self.paxAlphabet[random.below(Self.paxAlphabet.count)]
                                : UInt8(truncatingIfNeeded: random.next())
                        }
                    }
                    Self.fixChecksum(&bytes, at: header)
                }
            case 3:
                // Hostile PAX records before a valid member.
                var records: [(String, [UInt8])] = []
                for _ in 0..<(1 + random.below(3)) {
                    records.append(Self.hostilePax[random.below(Self.hostilePax.count)])
                }
                let single = (try? Self.archive([Self.member(&random)]))?.bytes ?? []
                bytes = Self.paxHeader(records) + single
            default:
                bytes = random.mutate(bytes, alphabet: Self.paxAlphabet, rounds: 6)
            }
            guard let read = Self.read(bytes) else {
                tally.rejected += 1
                return
            }
            tally.accepted += 1
            if bytes == original {
                // The valid archive reads back as written.
                if read.map(\.entry.path) != members.map(\.entry.path) || read.map(\.data) != members.map(\.data) {
                    failures += 1
                    Issue.record("valid archive read back differently (seed 0x\(String(FuzzRun.seed, radix: 16)))")
                }
            }
            // parse -> render -> parse gives the same members.
            guard let rendered = try? Self.archive(read).bytes, let again = Self.read(rendered) else {
                Issue.record("accepted archive does not re-render (seed 0x\(String(FuzzRun.seed, radix: 16)))")
                return
            }
            if again.map(\.entry) != read.map(\.entry) || again.map(\.data) != read.map(\.data) {
                failures += 1
                if failures <= 3 {
                    for (a, b) in zip(read, again) where a.entry != b.entry || a.data != b.data {
                        Issue.record("round trip changed \(a.entry) into \(b.entry)")
                    }
                }
            }
            tally.roundTrips += 1
        }
    }

    /// A pool of valid archives (plain, gzip, zstd), generated once: each input is one of them mutated, which is
    /// cheap enough for hundreds of thousands of inputs where generating and writing a fresh archive is not.
    struct Pool {
        struct Archive {
            var plain: [UInt8]
            var headers: [Int]
            /// Offsets of the data of each `x` (PAX) header, and its length.
            var paxRecords: [(start: Int, count: Int)]
            var gzip: [UInt8]
            var zstd: [UInt8]
        }
        var archives: [Archive] = []

        init(size: Int, random: inout SplitMix64) throws {
            for _ in 0..<size {
                var members = (0..<(1 + random.below(3))).map { _ in TarFuzzTests.member(&random) }
                // Small data keeps each read cheap; long names, links and xattrs keep the PAX paths busy.
                for index in members.indices where members[index].data.count > 64 {
                    members[index].data = Array(members[index].data.prefix(random.below(64)))
                    members[index].entry.size = Int64(members[index].data.count)
                }
                let (plain, headers) = try TarFuzzTests.archive(members)
                var pax: [(start: Int, count: Int)] = []
                for header in headers where plain[header + 156] == UInt8(ascii: "x") {
                    let sizeField = plain[(header + 124)..<(header + 135)]
                    let count = Int(String(decoding: sizeField, as: UTF8.self), radix: 8) ?? 0
                    pax.append((header + TarHeader.blockSize, count))
                }
                archives.append(
                    Archive(
                        plain: plain, headers: headers, paxRecords: pax,
                        gzip: try Self.compress(plain, .gzip), zstd: try Self.compress(plain, .zstd)))
            }
        }

        static func compress(_ bytes: [UInt8], _ compression: LayerCompressionFormat) throws -> [UInt8] {
            let sink = try CompressingSink(compression, downstream: MemorySink(), level: 1)
            try bytes.withUnsafeBytes { try sink.write($0) }
            try sink.finish()
            return sink.downstream.bytes
        }
    }

    /// One mutation of a valid plain archive, aimed at a part of the format.
    static func mutatePlain(_ archive: Pool.Archive, _ random: inout SplitMix64) -> [UInt8] {
        var bytes = archive.plain
        let header = archive.headers[random.below(archive.headers.count)]
        switch random.below(6) {
        case 0:
            // Bit flips in one header; the checksum made right again three times in four.
            for _ in 0..<(1 + random.below(4)) {
                bytes[header + random.below(TarHeader.blockSize)] ^= UInt8(1) << UInt8(random.below(8))
            }
            if random.below(4) != 0 { fixChecksum(&bytes, at: header) }
        case 1:
            // A random size: octal of any width, base-256, spaces, or garbage.
            let field = (header + 124)..<(header + 136)
            switch random.below(4) {
            case 0:
                let digits = Array(String(random.next() >> UInt64(random.below(64)), radix: 8).utf8.suffix(11))
                bytes.replaceSubrange(field, with: digits + [UInt8](repeating: 0, count: 12 - digits.count))
            case 1:
                bytes[field.lowerBound] = 0x80 | UInt8(random.below(2)) << 6
                for index in (field.lowerBound + 1)..<field.upperBound { bytes[index] = UInt8(random.below(256)) }
            case 2:
                for index in field { bytes[index] = random.below(2) == 0 ? 0x20 : 0 }
            default:
                for index in field { bytes[index] = paxAlphabet[random.below(paxAlphabet.count)] }
            }
            fixChecksum(&bytes, at: header)
        case 2:
            // Truncated PAX records: the archive cut inside one, or a record's length digits changed.
            guard let pax = archive.paxRecords.randomElement(using: &random), pax.count > 0 else {
                bytes = Array(bytes.prefix(random.below(bytes.count + 1)))
                break
            }
            if random.below(2) == 0 {
                bytes = Array(bytes.prefix(pax.start + random.below(pax.count)))
            } else {
                let position = pax.start + random.below(min(pax.count, 4))
                bytes[position] = paxAlphabet[random.below(paxAlphabet.count)]
            }
        case 3:
            // Cut anywhere: inside a header, inside data, on a block boundary (no end marker).
            let cut = random.below(2) == 0 ? random.below(bytes.count + 1) : random.below(bytes.count / 512 + 1) * 512
            bytes = Array(bytes.prefix(cut))
        case 4:
            // Trailing bytes after the end marker, or a second archive glued on.
            bytes += random.below(2) == 0 ? [UInt8(random.below(255) + 1)] : archive.plain
        default:
            bytes = random.mutate(bytes, alphabet: paxAlphabet, rounds: 3)
        }
        return bytes
    }

    @Test func mutatedLayers() throws {
        var setup = FuzzRun.generator("tar-pool")
        let pool = try Pool(size: 256, random: &setup)
        FuzzRun.run("tar-mutated", inputs: FuzzRun.count(200_000), minimumAccepted: 5_000, minimumRejected: 50_000) {
            random, tally in
            let archive = pool.archives[random.below(pool.archives.count)]
            let read: [Member]?
            switch random.below(8) {
            case 0, 1:
                // Compressed: the compressed bytes flipped or cut, or a mutated archive compressed again.
                var compressed = random.below(2) == 0 ? archive.gzip : archive.zstd
                switch random.below(4) {
                case 0: compressed[random.below(compressed.count)] ^= UInt8(1) << UInt8(random.below(8))
                case 1: compressed = Array(compressed.prefix(random.below(compressed.count)))
                case 2: compressed += random.below(2) == 0 ? [0x1f, 0x8b] : Array(compressed.prefix(9))
                default:
                    compressed =
                        (try? Pool.compress(
                            Self.mutatePlain(archive, &random), random.below(2) == 0 ? .gzip : .zstd)) ?? []
                }
                guard let source = try? AutoDecompressingSource(MemorySource(compressed), bufferSize: 4096) else {
                    tally.rejected += 1
                    return
                }
                read = Self.read(from: source, inputBytes: nil)
            default:
                let bytes = Self.mutatePlain(archive, &random)
                read = Self.read(bytes)
            }
            guard let read else {
                tally.rejected += 1
                return
            }
            tally.accepted += 1
            // What was accepted renders and reads back the same (one in four: rendering costs more than reading).
            guard random.below(4) == 0 else { return }
            guard let rendered = try? Self.archive(read).bytes, let again = Self.read(rendered) else {
                Issue.record("accepted archive does not re-render (seed 0x\(String(FuzzRun.seed, radix: 16)))")
                return
            }
            if again.map(\.entry) != read.map(\.entry) || again.map(\.data) != read.map(\.data) {
                Issue.record("round trip changed an accepted archive (seed 0x\(String(FuzzRun.seed, radix: 16)))")
            }
            tally.roundTrips += 1
        }
    }
}
