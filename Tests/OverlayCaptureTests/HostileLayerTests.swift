import Foundation
import NodeSys
import SystemPackage
import Testing

@testable import LayerApply
@testable import OverlayCapture

/// Layers crafted to escape the image directory: each must be refused with an error naming the entry, and
/// nothing may appear or change in a sentinel directory next to the image.
struct HostileLayerTests {
    struct Case: Sendable, CustomStringConvertible {
        var label: String
        /// Entries written before the hostile one (they may succeed).
        var entries: [TarEntry]
        /// Words the error text must contain.
        var expectedWords: [String]
        var description: String { label }
    }

    static let me = getuid()
    static func file(_ path: String) -> TarEntry {
        TarEntry(path: PathBytes(path), kind: .regular, permissions: 0o644, uid: me, gid: getgid(), size: 4)
    }

    /// `OUTSIDE` in link targets is replaced by the sentinel directory's absolute path.
    static let cases: [Case] = [
        Case(label: "parent component", entries: [file("../x")], expectedWords: ["../x", ".."]),
        Case(label: "absolute name", entries: [file("/etc/x")], expectedWords: ["/etc/x", "absolute"]),
        Case(label: "dot-dot in the middle", entries: [file("a/../../x")], expectedWords: ["a/../../x", ".."]),
        Case(
            label: "write through a symlink",
            entries: [
                TarEntry(path: "evil", kind: .symlink(target: "OUTSIDE"), permissions: 0o777, uid: me, gid: getgid()),
                file("evil/file"),
            ],
            expectedWords: ["evil/file", "symlink", "evil"]),
        Case(
            label: "write through a symlinked parent chain",
            entries: [
                TarEntry(path: "d/", kind: .directory, permissions: 0o755, uid: me, gid: getgid()),
                TarEntry(path: "d/up", kind: .symlink(target: "../.."), permissions: 0o777, uid: me, gid: getgid()),
                file("d/up/outside/planted"),
            ],
            expectedWords: ["d/up/outside/planted", "symlink", "up"]),
        Case(
            label: "hard link to outside",
            entries: [TarEntry(path: "pw", kind: .hardLink(target: "../../etc/passwd"), uid: me, gid: getgid())],
            expectedWords: ["pw", "../../etc/passwd"]),
        Case(
            label: "hard link through a symlink",
            entries: [
                TarEntry(path: "evil", kind: .symlink(target: "OUTSIDE"), permissions: 0o777, uid: me, gid: getgid()),
                TarEntry(path: "stolen", kind: .hardLink(target: "evil/sentinel"), uid: me, gid: getgid()),
            ],
            expectedWords: ["stolen", "evil/sentinel", "symlink"]),
        Case(
            label: "absolute hard link",
            entries: [TarEntry(path: "pw", kind: .hardLink(target: "/etc/passwd"), uid: me, gid: getgid())],
            expectedWords: ["pw", "/etc/passwd"]),
        // The parent chain keeps directories open between entries: a directory of it replaced by a symlink
        // must be met as a symlink by the next entry below it, however the replacement happened.
        Case(
            label: "cached directory replaced by a symlink",
            entries: [
                TarEntry(path: "a/b/", kind: .directory, permissions: 0o755, uid: me, gid: getgid()),
                TarEntry(path: "a/b/c/", kind: .directory, permissions: 0o755, uid: me, gid: getgid()),
                TarEntry(path: "a/b", kind: .symlink(target: "OUTSIDE"), permissions: 0o777, uid: me, gid: getgid()),
                file("a/b/x"),
            ],
            expectedWords: ["a/b/x", "symlink", "b"]),
        Case(
            label: "cached chain cut by a whiteout, then a symlink",
            entries: [
                file("a/b/c/f"),
                TarEntry(path: "a/.wh.b", kind: .regular, permissions: 0o600, uid: me, gid: getgid()),
                TarEntry(path: "a/b", kind: .symlink(target: "OUTSIDE"), permissions: 0o777, uid: me, gid: getgid()),
                file("a/b/c/g"),
            ],
            expectedWords: ["a/b/c/g", "symlink"]),
        Case(
            label: "cached chain cut by an opaque marker, then a symlink",
            entries: [
                file("a/b/c/f"),
                TarEntry(path: "a/.wh..wh..opq", kind: .regular, permissions: 0o600, uid: me, gid: getgid()),
                TarEntry(path: "a/b", kind: .symlink(target: "OUTSIDE"), permissions: 0o777, uid: me, gid: getgid()),
                file("a/b/c/g"),
            ],
            expectedWords: ["a/b/c/g", "symlink"]),
        Case(
            label: "deep cached chain replaced near the top",
            entries: [
                file("t/u/v/w/x/y/z/f"),
                TarEntry(path: "t/u", kind: .symlink(target: "OUTSIDE"), permissions: 0o777, uid: me, gid: getgid()),
                file("t/u/v/w/x/y/z/g"),
            ],
            expectedWords: ["t/u/v/w/x/y/z/g", "symlink"]),
        Case(label: "whiteout of dot-dot", entries: [file(".wh...")], expectedWords: [".wh...", "whiteout"]),
        Case(
            label: "whiteout escaping through a parent", entries: [file("sub/../.wh.sentinel")],
            expectedWords: ["sub/../.wh.sentinel"]),
        Case(
            label: "whiteout through a symlink",
            entries: [
                TarEntry(path: "evil", kind: .symlink(target: "OUTSIDE"), permissions: 0o777, uid: me, gid: getgid()),
                file("evil/.wh.sentinel"),
            ],
            expectedWords: ["evil/.wh.sentinel", "symlink"]),
        Case(
            label: "opaque marker through a symlink",
            entries: [
                TarEntry(path: "evil", kind: .symlink(target: "OUTSIDE"), permissions: 0o777, uid: me, gid: getgid()),
                file("evil/.wh..wh..opq"),
            ],
            expectedWords: ["evil/.wh..wh..opq", "symlink"]),
    ]

    @Test(arguments: cases)
    func refusedWithNothingWrittenOutside(_ testCase: Case) throws {
        let base = try TestSupport.makeTempDirectory("hostile")
        defer { try? FileManager.default.removeItem(atPath: base) }
        let image = base + "/image/root"
        let outside = base + "/outside"
        try FileManager.default.createDirectory(atPath: image, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try TestSupport.write(outside + "/sentinel", "keep")
        let before = try TestSupport.tree(base + "/outside")

        let entries = testCase.entries.map { entry -> (TarEntry, [UInt8]) in
            var entry = entry
            if case .symlink(let target) = entry.kind, target == "OUTSIDE" {
                entry.kind = .symlink(target: PathBytes(outside))
            }
            return (entry, entry.size == 4 ? Array("evil".utf8) : [])
        }
        let layer = try TestSupport.tar(entries)
        var message = ""
        do {
            _ = try LayerApplier.apply(MemorySource(layer), to: FilePath(image))
        } catch {
            message = "\(error)"
        }
        #expect(!message.isEmpty, "\(testCase.label): apply must fail")
        for word in testCase.expectedWords {
            #expect(message.contains(word), "\(testCase.label): error '\(message)' lacks '\(word)'")
        }
        #expect(try TestSupport.tree(base + "/outside") == before, "\(testCase.label): outside changed")
        // Nothing landed next to the image either (image/root's parent holds only root).
        #expect(try FileManager.default.contentsOfDirectory(atPath: base + "/image") == ["root"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: base).sorted() == ["image", "outside"])
    }

    /// Benign cases close to the hostile ones still work: `./` names, a symlink replaced by a directory,
    /// whiteouts of existing entries, opaque directories hiding only older content, hard links inside.
    @Test func benignNeighboursApply() throws {
        let base = try TestSupport.makeTempDirectory("benign")
        defer { try? FileManager.default.removeItem(atPath: base) }
        let image = base + "/image"
        try FileManager.default.createDirectory(atPath: image + "/opq/old", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: image + "/opq/kept", withIntermediateDirectories: true)
        try TestSupport.write(image + "/opq/old/f", "old")
        try TestSupport.write(image + "/opq/kept/older", "older")
        try TestSupport.write(image + "/gone", "x")
        try FileManager.default.createSymbolicLink(atPath: image + "/was-link", withDestinationPath: "/")
        let me = Self.me
        let gid = getgid()
        let layer = try TestSupport.tar([
            (TarEntry(path: "./", kind: .directory, permissions: 0o700, uid: me, gid: gid), []),
            (TarEntry(path: "./a/b", kind: .regular, permissions: 0o640, uid: me, gid: gid, size: 2), Array("hi".utf8)),
            (TarEntry(path: "was-link/", kind: .directory, permissions: 0o750, uid: me, gid: gid), []),
            (TarEntry(path: ".wh.gone", kind: .regular, permissions: 0o600, uid: me, gid: gid), []),
            (TarEntry(path: "opq/", kind: .directory, permissions: 0o755, uid: me, gid: gid), []),
            (TarEntry(path: "opq/new", kind: .regular, permissions: 0o644, uid: me, gid: gid, size: 1), [1]),
            (TarEntry(path: "opq/kept/", kind: .directory, permissions: 0o755, uid: me, gid: gid), []),
            (TarEntry(path: "opq/kept/newer", kind: .regular, permissions: 0o644, uid: me, gid: gid, size: 1), [2]),
            (TarEntry(path: "opq/.wh..wh..opq", kind: .regular, permissions: 0o600, uid: me, gid: gid), []),
            (TarEntry(path: "a/link", kind: .hardLink(target: "./a/b"), uid: me, gid: gid), []),
        ])
        let summary = try LayerApplier.apply(MemorySource(layer), to: FilePath(image))
        #expect(summary.whiteouts == 1 && summary.opaqueDirectories == 1 && summary.hardLinks == 1)
        let tree = try TestSupport.tree(image)
        #expect(tree["a/b"]?.mode == 0o640)
        #expect(tree["a/b"]?.links == ["a/link"])
        #expect(tree["was-link"]?.type == "dir")
        #expect(tree["gone"] == nil)
        // The opaque marker came after opq/new in this layer: it hides only the older content.
        #expect(tree["opq/new"] != nil)
        #expect(tree["opq/old"] == nil)
        #expect(tree["opq/old/f"] == nil)
        // A directory the layer re-created keeps only the layer's children.
        #expect(tree["opq/kept/newer"] != nil)
        #expect(tree["opq/kept/older"] == nil)
    }
}
