import Foundation
import NodeSys
import Testing

@Suite("ConfinedTree: resolution inside a root, never following a symlink out")
struct ConfinedTreeTests {
    @Test func absoluteSymlinkInParentStaysInside() throws {
        let scratch = try ScratchDirectory("confined-abs")
        defer { scratch.cleanup() }
        let root = scratch.sub("root")
        let outside = scratch.sub("outside")
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        // /etc/escape -> <outside> (absolute host path) and ../../.. style.
        try FileManager.default.createSymbolicLink(atPath: root + "/etc/escape", withDestinationPath: outside)
        try FileManager.default.createSymbolicLink(
            atPath: root + "/etc/dotdot", withDestinationPath: "../../../../../../" + outside)
        let tree = try ConfinedTree(root)
        // Writing through either link as a parent lands inside the root (or fails), never in `outside`.
        _ = try? tree.writeFile("/etc/escape/x", Array("a".utf8))
        _ = try? tree.writeFile("/etc/dotdot/y", Array("b".utf8))
        _ = try? tree.ensureDirectory("/etc/escape/sub")
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
        // The final component is never followed.
        #expect(throws: ConfinedTree.Error.self) { try tree.writeFile("/etc/escape", Array("c".utf8)) }
        #expect(throws: ConfinedTree.Error.self) { _ = try tree.openDirectory("/etc/escape") }
        #expect(throws: ConfinedTree.Error.self) { _ = try tree.components("/etc/../x") }
    }

    @Test func copyKeepsDotfilesModesAndSymlinks() throws {
        let scratch = try ScratchDirectory("confined-copy")
        defer { scratch.cleanup() }
        try write(scratch.sub("a/dir/.hidden"), "dot", mode: 0o600)
        try write(scratch.sub("a/dir/sub/file"), "file", mode: 0o751)
        try FileManager.default.createSymbolicLink(
            atPath: scratch.sub("a/dir/link"), withDestinationPath: "/etc/shadow")
        try FileManager.default.createDirectory(atPath: scratch.sub("b"), withIntermediateDirectories: true)
        let source = try ConfinedTree(scratch.sub("a"))
        let destination = try ConfinedTree(scratch.sub("b"))
        try ConfinedTree.copy(from: source, "/dir/", to: destination, "/copy")
        #expect(read(scratch.sub("b/copy/.hidden")) == "dot")
        #expect(read(scratch.sub("b/copy/sub/file")) == "file")
        #expect(symlinkTarget(scratch.sub("b/copy/link")) == "/etc/shadow")
        let attributes = try FileManager.default.attributesOfItem(atPath: scratch.sub("b/copy/sub/file"))
        #expect((attributes[.posixPermissions] as? Int) == 0o751)
    }

    @Test(.enabled(if: runningAsRoot, "bind mounts need root")) func readOnlyBindThroughDescriptors() throws {
        let scratch = try ScratchDirectory("confined-bind")
        defer { scratch.cleanup() }
        try write(scratch.sub("src/file"), "source")
        try write(scratch.sub("dst/file"), "target")
        let source = try ConfinedTree(scratch.sub("src"))
        let target = try ConfinedTree(scratch.sub("dst"))
        try ConfinedTree.bind(from: source, "/file", onto: target, "/file", readOnly: true)
        #expect(read(scratch.sub("dst/file")) == "source")
        #expect(isReadOnlyMount(scratch.sub("dst/file")))
        #expect(
            !FileManager.default.isWritableFile(atPath: scratch.sub("dst/file"))
                || (try? "x".write(toFile: scratch.sub("dst/file"), atomically: false, encoding: .utf8)) == nil)
    }
}
