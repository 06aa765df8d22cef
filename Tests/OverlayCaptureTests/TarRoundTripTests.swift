import Foundation
import LayerCompression
import NodeSys
import Testing

@testable import LayerApply
@testable import OverlayCapture

/// Writer → our reader and writer → Python's tarfile, over every feature the layer format needs.
struct TarRoundTripTests {
    static let longName = (1...12).map { "directory-\($0)-" + String(repeating: "x", count: 20) }.joined(separator: "/")
    static let binaryCapability: [UInt8] = [
        0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0xff, 0x00,
    ]

    static var entries: [(TarEntry, [UInt8])] {
        let time = FileTimestamp(seconds: 1_700_000_123, nanoseconds: 456_789_000)
        return [
            (
                TarEntry(
                    path: "etc/", kind: .directory, permissions: 0o755, userName: "root", groupName: "root",
                    modified: time), []
            ),
            (
                TarEntry(
                    path: "etc/motd", kind: .regular, permissions: 0o644, uid: 1000, gid: 1000, userName: "alice",
                    groupName: "alice", size: 600, modified: time,
                    xattrs: [ExtendedAttribute(name: "user.color", value: Array("blue".utf8))]),
                [UInt8]((0..<600).map { UInt8(truncatingIfNeeded: $0) })
            ),
            (
                TarEntry(
                    path: "usr/bin/ping", kind: .regular, permissions: 0o755, size: 3, modified: time,
                    xattrs: [ExtendedAttribute(name: "security.capability", value: binaryCapability)]),
                Array("elf".utf8)
            ),
            (TarEntry(path: PathBytes(longName), kind: .regular, permissions: 0o600, size: 0, modified: time), []),
            (
                TarEntry(
                    path: "link-long", kind: .symlink(target: PathBytes(longName)), permissions: 0o777, modified: time),
                []
            ),
            (
                TarEntry(
                    path: "etc/motd-link", kind: .hardLink(target: "etc/motd"), permissions: 0o644, uid: 1000,
                    gid: 1000, modified: time), []
            ),
            (
                TarEntry(
                    path: "dev/tty9", kind: .characterDevice(major: 4, minor: 9), permissions: 0o620, gid: 5,
                    modified: time), []
            ),
            (
                TarEntry(
                    path: "dev/loop9", kind: .blockDevice(major: 7, minor: 9), permissions: 0o660, gid: 6,
                    modified: time), []
            ),
            (TarEntry(path: "run/fifo", kind: .fifo, permissions: 0o600, modified: time), []),
            (
                TarEntry(
                    path: "etc/.wh.removed", kind: .regular, permissions: 0o600,
                    modified: FileTimestamp(seconds: 0, nanoseconds: 0)), []
            ),
            (
                TarEntry(
                    path: "big-ids", kind: .regular, permissions: 0o644, uid: 4_000_000, gid: 4_000_001,
                    userName: String(repeating: "n", count: 40), size: 1, modified: time), [7]
            ),
        ]
    }

    @Test func ourReaderReadsBackEveryEntry() throws {
        let bytes = try TestSupport.tar(Self.entries)
        #expect(bytes.count % 512 == 0)
        var reader = TarReader(source: MemorySource(bytes))
        defer { reader.close() }
        for (expected, data) in Self.entries {
            let entry = try #require(try reader.next())
            #expect(entry == expected)
            var read: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 100)
            while true {
                let count = try chunk.withUnsafeMutableBytes { try reader.readData(into: $0) }
                if count == 0 { break }
                read += chunk[0..<count]
            }
            #expect(read == data)
        }
        #expect(try reader.next() == nil)
    }

    @Test func pythonTarfileAgrees() throws {
        let directory = try TestSupport.makeTempDirectory("tarpy")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/layer.tar"
        try Data(try TestSupport.tar(Self.entries)).write(to: URL(fileURLWithPath: path))
        let members = try TestSupport.pythonMembers(path)
        #expect(members.count == Self.entries.count)
        for (member, (entry, data)) in zip(members, Self.entries) {
            #expect(PathBytes(member.name + (member.type == "dir" ? "/" : "")) == entry.path)
            #expect(member.mode == Int(entry.permissions))
            #expect(member.uid == Int(entry.uid))
            #expect(member.gid == Int(entry.gid))
            #expect(member.uname == entry.userName)
            #expect(member.mtime == TarHeader.formatTime(entry.modified))
            #expect(
                member.xattrs
                    == Dictionary(uniqueKeysWithValues: entry.xattrs.map { ($0.name, TestSupport.hex($0.value)) }))
            switch entry.kind {
            case .regular:
                #expect(member.type == "file")
                #expect(member.size == Int64(data.count))
            case .symlink(let target): #expect(member.type == "symlink" && PathBytes(member.linkname) == target)
            case .hardLink(let target): #expect(member.type == "hardlink" && PathBytes(member.linkname) == target)
            case .characterDevice(let major, let minor):
                #expect(member.type == "char" && member.devmajor == Int(major) && member.devminor == Int(minor))
            case .blockDevice(let major, let minor):
                #expect(member.type == "block" && member.devmajor == Int(major) && member.devminor == Int(minor))
            case .directory: #expect(member.type == "dir")
            case .fifo: #expect(member.type == "fifo")
            }
        }
        // GNU tar also lists it without complaint.
        let listing = String(decoding: try TestSupport.run(["tar", "-tf", path]), as: UTF8.self)
        #expect(listing.contains(Self.longName))
    }

    @Test func readerAcceptsGnuLongNamesFromGnuTar() throws {
        let directory = try TestSupport.makeTempDirectory("gnutar")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let deep = String(repeating: "d", count: 120) + "/" + String(repeating: "f", count: 150)
        try FileManager.default.createDirectory(
            atPath: directory + "/src/" + String(repeating: "d", count: 120), withIntermediateDirectories: true)
        try TestSupport.write(directory + "/src/" + deep, "gnu")
        try FileManager.default.createSymbolicLink(atPath: directory + "/src/sym", withDestinationPath: deep)
        try TestSupport.run(["tar", "--format=gnu", "-C", directory + "/src", "-cf", directory + "/gnu.tar", "."])
        let handle = try FileDescriptorSourceOpener.open(directory + "/gnu.tar")
        var reader = TarReader(source: handle)
        defer { reader.close() }
        var names: [PathBytes: TarEntry.Kind] = [:]
        while let entry = try reader.next() { names[entry.path] = entry.kind }
        #expect(names[PathBytes("./" + deep)] == .regular)
        #expect(names["./sym"] == .symlink(target: PathBytes(deep)))
    }

    @Test(arguments: [LayerCompressionFormat.gzip, .zstd])
    func compressedStreamsRoundTripAndMatchTheStandardTools(_ compression: LayerCompressionFormat) throws {
        let plain = try TestSupport.tar(Self.entries)
        let sink = try CompressingSink(compression, downstream: MemorySink())
        try plain.withUnsafeBytes { try sink.write($0) }
        try sink.finish()
        let compressed = sink.downstream.bytes
        #expect(CompressionFormat.detect(Array(compressed.prefix(4)))?.rawValue == compression.rawValue)
        let tool = compression == .gzip ? ["gzip", "-dc"] : ["zstd", "-dcq"]
        #expect(Array(try TestSupport.run(tool, input: Data(compressed))) == plain)
        let source = try AutoDecompressingSource(MemorySource(compressed))
        var back: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 777)
        while true {
            let count = try chunk.withUnsafeMutableBytes { try source.read(into: $0) }
            if count == 0 { break }
            back += chunk[0..<count]
        }
        #expect(back == plain)
    }

    @Test func truncatedStreamIsAnError() throws {
        let bytes = try TestSupport.tar(Self.entries)
        var reader = TarReader(source: MemorySource(Array(bytes.prefix(700))))
        defer { reader.close() }
        #expect(throws: (any Error).self) {
            while try reader.next() != nil {}
        }
    }

    @Test func writerRefusesDataBeyondTheHeaderSize() throws {
        var writer = TarWriter(sink: MemorySink())
        try writer.append(TarEntry(path: "f", kind: .regular, size: 2))
        #expect(throws: TarWriter<MemorySink>.Error.dataBeyondSize(path: "f", size: 2)) {
            try [UInt8](repeating: 1, count: 3).withUnsafeBytes { try writer.appendData($0) }
        }
        #expect(throws: TarWriter<MemorySink>.Error.entryStillOpen(path: "f", missingBytes: 2)) { try writer.finish() }
    }
}

/// Opens a file as a ByteSource for tests.
enum FileDescriptorSourceOpener {
    static func open(_ path: String) throws -> FileDescriptorSource {
        FileDescriptorSource(
            try FileTree.openForReading(
                in: try FileTree.openAnchorParent(.init(path)).unwrap(path), (path as NSString).lastPathComponent))
    }
}

extension Optional {
    func unwrap(_ context: String) throws -> Wrapped {
        guard let self else { throw TestSupport.CommandFailed(command: [context], status: -1, stderr: "missing") }
        return self
    }
}

/// Garbage and hostile headers give errors, never traps.
struct TarReaderRobustnessTests {
    static func header(mutating body: (inout [UInt8]) -> Void) -> [UInt8] {
        var block = TarHeader.encode(TarEntry(path: "f", kind: .regular, size: 1))
        body(&block)
        // Recompute the checksum so only the mutated field is wrong.
        for index in 148..<156 { block[index] = 0x20 }
        let sum = block.reduce(0) { $0 + Int($1) }
        let digits = Array(String(sum, radix: 8).utf8)
        for (index, byte) in (Array(repeating: UInt8(ascii: "0"), count: 6 - digits.count) + digits).enumerated() {
            block[148 + index] = byte
        }
        block[154] = 0
        return block + [UInt8](repeating: 0, count: 2048)
    }

    enum Damage: String, CaseIterable, Sendable {
        case hugeBase256Size, negativeBase256Size, nonOctalMode

        func apply(_ block: inout [UInt8]) {
            switch self {
            case .hugeBase256Size:
                block[124] = 0x80
                for index in 125..<136 { block[index] = 0xff }
            case .negativeBase256Size: block[124] = 0xff
            case .nonOctalMode: block[100] = UInt8(ascii: "9")
            }
        }
    }

    @Test(arguments: Damage.allCases)
    func badNumericFieldsAreErrors(_ damage: Damage) {
        var reader = TarReader(source: MemorySource(Self.header(mutating: damage.apply)))
        defer { reader.close() }
        #expect(throws: (any Error).self) { while try reader.next() != nil {} }
    }

    @Test func hugePaxSizeAndBadRecordsAreErrors() throws {
        for records in ["30 size=9223372036854775807\n", "5 x\n", "99999999999 path=x\n", "8 path\n"] {
            let data = Array(records.utf8)
            var bytes = TarHeader.encode(TarEntry(path: "PaxHeaders/f", kind: .regular, size: Int64(data.count)))
            bytes[156] = UInt8(ascii: "x")
            for index in 148..<156 { bytes[index] = 0x20 }
            let sum = bytes.reduce(0) { $0 + Int($1) }
            let digits = Array(String(sum, radix: 8).utf8)
            for (index, byte) in (Array(repeating: UInt8(ascii: "0"), count: 6 - digits.count) + digits).enumerated() {
                bytes[148 + index] = byte
            }
            bytes[154] = 0
            bytes += data + [UInt8](repeating: 0, count: TarHeader.padding(Int64(data.count)))
            bytes += TarHeader.encode(TarEntry(path: "f", kind: .regular)) + [UInt8](repeating: 0, count: 1024)
            var reader = TarReader(source: MemorySource(bytes))
            defer { reader.close() }
            #expect(throws: (any Error).self, "\(records)") { while try reader.next() != nil {} }
        }
    }

    @Test func corruptedChecksumIsAnError() {
        var bytes = TarHeader.encode(TarEntry(path: "f", kind: .regular)) + [UInt8](repeating: 0, count: 1024)
        bytes[0] = UInt8(ascii: "g")
        var reader = TarReader(source: MemorySource(bytes))
        defer { reader.close() }
        #expect(throws: TarReader<MemorySource>.Error.badChecksum(offset: 0)) { _ = try reader.next() }
    }
}

extension TarReaderRobustnessTests {
    @Test func gnuSparseMembersAreRefusedNotMisread() throws {
        let directory = try TestSupport.makeTempDirectory("sparse")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try TestSupport.run([
            "sh", "-ec", "cd \(directory) && truncate -s 10M s && echo x >> s && tar --format=gnu -S -cf gnu.tar s",
        ])
        var reader = TarReader(source: try FileDescriptorSourceOpener.open(directory + "/gnu.tar"))
        defer { reader.close() }
        #expect(throws: TarReader<FileDescriptorSource>.Error.unsupportedType(path: "s", typeflag: UInt8(ascii: "S"))) {
            _ = try reader.next()
        }
    }
}
