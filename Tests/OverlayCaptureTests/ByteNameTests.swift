import Foundation
import NodeSys
import SystemPackage
import Testing

@testable import LayerApply
@testable import OverlayCapture

/// Linux names are bytes: names that are not UTF-8 survive capture, the layer, Python's tarfile, umoci and
/// apply exactly, and two names differing in one invalid byte stay two names.
enum ByteNames {
    static let script = TestSupport.scripts.appendingPathComponent("byte_names.py").path

    struct TreeEntry: Decodable, Equatable {
        var type: String
        var mode: Int
        var size: Int64
        var sha256: String?
        var target: String?
    }

    struct Member: Decodable {
        var name: String
        var linkname: String
        var type: String
        var hdrcharset: String?
    }

    static func hex(_ name: PathBytes) -> String { TestSupport.hex(name.bytes) }

    static func tree(_ root: String) throws -> [String: TreeEntry] {
        try JSONDecoder().decode(
            [String: TreeEntry].self, from: try TestSupport.run(["python3", script, "tree", root]))
    }

    static func members(_ tar: String) throws -> [Member] {
        try JSONDecoder().decode([Member].self, from: try TestSupport.run(["python3", script, "tar", tar]))
    }

    static let long = PathBytes(
        [UInt8](repeating: 0xff, count: 100) + [UInt8](repeating: UInt8(ascii: "x"), count: 155))
}

@Suite(.serialized, .enabled(if: TestSupport.isRoot, "needs root to mount overlayfs and tmpfs"))
struct ByteNameOverlayTests {
    @Test func nonUTF8NamesSurviveCaptureTarfileUmociAndApply() throws {
        let overlay = try OverlayIntegrationTests.Overlay()
        defer { overlay.cleanUp() }
        try TestSupport.run(["python3", ByteNames.script, "lower", overlay.lower])
        try overlay.mount()
        try TestSupport.run(["python3", ByteNames.script, "change", overlay.merged])

        let (summary, layerPath) = try overlay.captureLayer()
        #expect(summary.skipped.isEmpty, "nothing skipped: \(summary.skipped)")
        #expect(summary.whiteouts.count == 1)
        #expect(summary.opaqueDirectories.count == 1)
        #expect(summary.hardLinks.count == 1)
        // Summary paths: UTF-8 ones as text, the others in display form plus their exact bytes in base64.
        let records = summary.paths ?? []
        let nff = try #require(records.first { $0.path == "/n\\xff" })
        #expect(
            CaptureSummary.decode(path: nff.path, pathBase64: nff.pathBase64) == PathBytes(Array("/n".utf8) + [0xff]))
        #expect(records.contains { $0.path == "/n\\xfe" && $0.pathBase64 != nil })
        #expect(records.contains { $0.path == "/caf\u{e9}" && $0.pathBase64 == nil })
        #expect(records.contains { $0.path == "/back\\slash" && $0.pathBase64 == nil })
        #expect(records.contains { $0.path == "/bad\\xffname" && $0.kind == "whiteout" })
        let json = try OverlayCapture.json(summary)
        #expect(json.contains("pathBase64"))

        // Python's tarfile (surrogateescape) reads back the same bytes.
        let members = try ByteNames.members(layerPath)
        let names = Set(members.map(\.name))
        for name: PathBytes in [
            PathBytes(Array("n".utf8) + [0xff]), PathBytes(Array("n".utf8) + [0xfe]), "a\nb", ByteNames.long,
            PathBytes(Array(".wh.bad".utf8) + [0xff] + Array("name".utf8)),
            PathBytes(Array("op".utf8) + [0xfe] + Array("q/.wh..wh..opq".utf8)),
            PathBytes(Array("op".utf8) + [0xfe] + Array("q/new".utf8) + [0xff]),
            PathBytes(Array("dir".utf8) + [0xfb] + Array("/inner".utf8) + [0xfa]),
        ] {
            #expect(names.contains(ByteNames.hex(name)), "tarfile lacks \(name)")
        }
        let link = try #require(members.first { $0.name == ByteNames.hex(PathBytes(Array("link".utf8) + [0xfd])) })
        #expect(link.type == "2" && link.linkname == ByteNames.hex(PathBytes(Array("n".utf8) + [0xff])))
        #expect(link.hdrcharset == "BINARY")
        let hard = try #require(members.first { $0.name == ByteNames.hex(PathBytes(Array("hard".utf8) + [0xfc])) })
        // Walked in byte order: hard\xfc comes first and is the file, n\xfe links to it.
        #expect(hard.type == "0")
        let second = try #require(members.first { $0.name == ByteNames.hex(PathBytes(Array("n".utf8) + [0xfe])) })
        #expect(second.type == "1" && second.linkname == hard.name)
        #expect(members.first { $0.name == ByteNames.hex("keep") } == nil, "unchanged lower file not in the layer")

        // Apply to a copy of the lower: the same tree as the merged view, byte for byte (names via readdir).
        let expected = try ByteNames.tree(overlay.merged)
        #expect(expected[ByteNames.hex(PathBytes(Array("bad".utf8) + [0xfe] + Array("name".utf8)))] != nil)
        #expect(expected[ByteNames.hex(PathBytes(Array("bad".utf8) + [0xff] + Array("name".utf8)))] == nil)
        let (applied, image) = try overlay.applyToCopyOfLower(layerPath)
        #expect(applied.whiteouts == 1 && applied.opaqueDirectories == 1)
        OverlayIntegrationTests.compare(try ByteNames.tree(image), expected, label: "apply")

        // umoci 0.4.7 (Go's archive/tar keeps PAX names as bytes): add the layer verbatim, unpack, compare.
        let unpacked = try ByteNames.tree(try overlay.umociUnpackWithLayer(layerPath))
        OverlayIntegrationTests.compare(unpacked, expected, label: "umoci")

        // Exclusion patterns match bytes: `?` is one byte, so `n?` drops n\xff and n\xfe (and nothing else).
        let excludedOutput = try FileDescriptor.open(
            FilePath(overlay.base + "/excluded.tar"), .writeOnly,
            options: [.create, .truncate], permissions: .ownerReadWrite)
        let excluded = try excludedOutput.closeAfter {
            try OverlayCapture.capture(
                CaptureOptions(upperDirectory: FilePath(overlay.upper), exclusions: ["/n?"], recordPaths: true),
                to: excludedOutput)
        }
        #expect(excluded.excluded == 2)
        #expect(!(excluded.paths ?? []).contains { $0.path.hasPrefix("/n\\x") })
    }
}

struct ByteNameLayerTests {
    static let ff = PathBytes(Array("n".utf8) + [0xff])
    static let fe = PathBytes(Array("n".utf8) + [0xfe])

    @Test func nonUTF8NamesAndTargetsRoundTripThroughPax() throws {
        let entries: [(TarEntry, [UInt8])] = [
            (TarEntry(path: Self.ff, kind: .regular, size: 1), [1]),
            (TarEntry(path: Self.fe, kind: .regular, size: 1), [2]),
            (TarEntry(path: "a\nb", kind: .regular), []),
            (TarEntry(path: "d/" + ByteNames.long, kind: .regular), []),
            (TarEntry(path: "l", kind: .symlink(target: Self.ff)), []),
            (TarEntry(path: "caf\u{e9}", kind: .hardLink(target: Self.fe)), []),
        ]
        let bytes = try TestSupport.tar(entries)
        var reader = TarReader(source: MemorySource(bytes))
        defer { reader.close() }
        var read: [TarEntry] = []
        while let entry = try reader.next() { read.append(entry) }
        #expect(read.map(\.path) == entries.map(\.0.path))
        #expect(read.map(\.kind) == entries.map(\.0.kind))
        // The records: hdrcharset=BINARY only where a value is not UTF-8; plain ASCII names stay in ustar.
        let header = TarHeader.encode(entries[0].0)
        #expect(header.count == 3 * 512)
        let records = String(decoding: header[512..<1024], as: UTF8.self)
        #expect(records.hasPrefix("21 hdrcharset=BINARY\n"))
        #expect(TarHeader.encode(entries[2].0).count == 512, "a\\nb is ASCII and fits ustar")
        let utf8Only = String(decoding: TarHeader.encode(entries[5].0), as: UTF8.self)
        #expect(utf8Only.contains("path=caf\u{e9}") && utf8Only.contains("hdrcharset"), "linkpath n\\xfe is binary")
        // Python's tarfile reads the same bytes back.
        let directory = try TestSupport.makeTempDirectory("byte-pax")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data(bytes).write(to: URL(fileURLWithPath: directory + "/l.tar"))
        let members = try ByteNames.members(directory + "/l.tar")
        #expect(members.map(\.name) == entries.map { ByteNames.hex($0.0.path) })
        #expect(members[4].linkname == ByteNames.hex(Self.ff) && members[5].linkname == ByteNames.hex(Self.fe))
    }

    @Test func namesDisplayReversiblyAndApart() {
        #expect(Self.ff.description == "n\\xff")
        #expect(Self.fe.description == "n\\xfe")
        #expect(PathBytes("n\\xff").description == "n\\\\xff", "a literal backslash is doubled")
        #expect(PathBytes("a\nb").description == "a\\x0ab")
        #expect(PathBytes([0xe2, 0x82]).description == "\\xe2\\x82", "a cut UTF-8 sequence shows its bytes")
        #expect(PathBytes([0xc0, 0x80]).description == "\\xc0\\x80", "an overlong NUL is not decoded")
        #expect(PathBytes("caf\u{e9}").description == "caf\u{e9}")
        #expect(DisplayText.safe(Self.ff) == "n\\xff")
        let error = LayerPath.Error.parentComponent(PathBytes(Array("../".utf8) + [0xff]))
        #expect("\(error)".contains("'../\\xff'"))
    }

    /// A whiteout for `bad\xffname` deletes exactly that file, not `bad\xfename`; an opaque marker in a
    /// non-UTF-8 directory hides only its older content.
    @Test func whiteoutAndOpaqueNamesAreExact() throws {
        let image = try TestSupport.makeTempDirectory("byte-apply")
        defer { try? FileManager.default.removeItem(atPath: image) }
        let bad: (UInt8) -> PathBytes = { PathBytes(Array("bad".utf8) + [$0] + Array("name".utf8)) }
        let opaque = PathBytes(Array("o".utf8) + [0xfe])
        let root = try FileTree.openAnchor(FilePath(image))
        defer { FileTree.closeQuietly(root) }
        for name in [bad(0xff), bad(0xfe)] {
            FileTree.closeQuietly(try FileTree.createFile(in: root, name, permissions: 0o644))
        }
        try FileTree.makeDirectory(in: root, opaque, permissions: 0o755)
        let directory = try FileTree.openDirectory(in: root, opaque)
        FileTree.closeQuietly(try FileTree.createFile(in: directory, Self.ff, permissions: 0o644))
        FileTree.closeQuietly(directory)
        let me = (uid: getuid(), gid: getgid())
        let layer = try TestSupport.tar([
            (TarEntry(path: OCIWhiteout.prefix + bad(0xff), kind: .regular, uid: me.uid, gid: me.gid), []),
            (TarEntry(path: opaque + "/", kind: .directory, permissions: 0o755, uid: me.uid, gid: me.gid), []),
            (TarEntry(path: opaque + "/" + OCIWhiteout.opaqueMarker, kind: .regular, uid: me.uid, gid: me.gid), []),
            (TarEntry(path: opaque + "/" + Self.fe, kind: .regular, uid: me.uid, gid: me.gid), []),
        ])
        _ = try LayerApplier.apply(MemorySource(layer), to: FilePath(image))
        #expect(try FileTree.list(root, path: image).entries == [bad(0xfe), opaque])
        let after = try FileTree.openDirectory(in: root, opaque)
        defer { FileTree.closeQuietly(after) }
        #expect(try FileTree.list(after, path: "o").entries == [Self.fe])
    }

    static func header(_ records: [(String, String)]) throws -> [UInt8] {
        var pax: [UInt8] = []
        for (key, value) in records { pax += TarHeader.paxRecord(key: key, value: Array(value.utf8)) }
        var out: [UInt8] = []
        TarHeader.appendUstar(
            &out, path: Array("PaxHeaders/f".utf8), split: 0, typeflag: UInt8(ascii: "x"),
            permissions: 0o644, uid: 0, gid: 0, size: Int64(pax.count), mtimeSeconds: 0, linkname: [], userName: "",
            groupName: "", major: 0, minor: 0)
        out += pax + [UInt8](repeating: 0, count: TarHeader.padding(Int64(pax.count)))
        out += TarHeader.encode(TarEntry(path: "f", kind: .regular))
        return out + [UInt8](repeating: 0, count: 1024)
    }

    static func readError(_ bytes: [UInt8]) -> String? {
        var reader = TarReader(source: MemorySource(bytes))
        defer { reader.close() }
        do {
            while try reader.next() != nil {}
            return nil
        } catch { return "\(error)" }
    }

    @Test(arguments: [
        ("uid", "4294967296", "tar header at byte 1024 has pax uid 4294967296, out of range (0...4294967295)"),
        ("gid", "4294967296", "tar header at byte 1024 has pax gid 4294967296, out of range (0...4294967295)"),
        ("uid", "-1", "tar header at byte 1024 has an invalid pax uid field"),
        ("gid", "12a", "tar header at byte 1024 has an invalid pax gid field"),
        ("uid", "+5", "tar header at byte 1024 has an invalid pax uid field"),
        ("uid", "", "tar header at byte 1024 has an invalid pax uid field"),
        ("size", "99999999999999999999", "tar header at byte 1024 has pax size 99999999999999999999, out of range"),
        ("mtime", "1.x", "tar header at byte 1024 has an invalid mtime field"),
    ])
    func paxNumbersOutOfRangeOrGarbageAreRefused(_ key: String, _ value: String, _ message: String) throws {
        let error = try #require(Self.readError(try Self.header([(key, value)])))
        #expect(error.hasPrefix(message), "\(error)")
    }

    @Test func ustarBase256IdBeyond32BitsIsRefused() throws {
        var block = TarHeader.encode(TarEntry(path: "f", kind: .regular))
        let uid = TarHeader.numericField(Int64(1) << 32, width: 8)
        block.replaceSubrange(108..<116, with: uid)
        for index in 148..<156 { block[index] = 0x20 }
        let sum = block.reduce(0) { $0 + Int($1) }
        block.replaceSubrange(148..<155, with: TarHeader.numericField(Int64(sum), width: 7))
        let error = try #require(Self.readError(block + [UInt8](repeating: 0, count: 1024)))
        #expect(error == "tar header at byte 0 has uid 4294967296, out of range (0...4294967295)")
    }
}
