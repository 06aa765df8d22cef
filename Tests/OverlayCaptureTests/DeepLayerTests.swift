import Foundation
import NodeSys
import SystemPackage
import Testing

@testable import LayerApply
@testable import OverlayCapture

/// Deep layers go through the parent chain of open directories (`DirectoryChain`): the result must be the same
/// as a walk from the root for every entry, with a bounded number of descriptors, whatever the window size.
struct DeepLayerTests {
    static let time = FileTimestamp(seconds: 1_000_000_000, nanoseconds: 0)

    /// `d/d/.../d/` (depth times), each level holding a file `f` whose content is its depth.
    static func deepLayer(depth: Int) throws -> [UInt8] {
        var entries: [(TarEntry, [UInt8])] = []
        var path = ""
        for level in 1...depth {
            path += "d/"
            entries.append(
                (TarEntry(path: PathBytes(path), kind: .directory, permissions: 0o750, modified: time), []))
            let data = Array(String(level).utf8)
            entries.append(
                (TarEntry(path: PathBytes(path + "f"), kind: .regular, size: Int64(data.count), modified: time), data))
        }
        return try TestSupport.tar(entries)
    }

    /// Checks every level fd-anchored (the deepest paths are longer than PATH_MAX from the test's view).
    static func checkDeepTree(_ image: String, depth: Int) throws {
        var current = try FileTree.openAnchor(FilePath(image))
        defer { FileTree.closeQuietly(current) }
        for level in 1...depth {
            let status = try FileTree.status(in: current, "d")
            #expect(status.kind == .directory && status.permissions == 0o750, "level \(level)")
            #expect(status.mtime == time, "level \(level): directory time set after its children")
            let next = try FileTree.openDirectory(in: current, "d")
            FileTree.closeQuietly(current)
            current = next
            let file = try FileTree.openForReading(in: current, "f")
            defer { FileTree.closeQuietly(file) }
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 8)
            defer { buffer.deallocate() }
            let count = try FileTree.read(file, into: buffer, at: 0, path: "f")
            #expect(Array(buffer[0..<count]) == Array(String(level).utf8), "level \(level)")
        }
        #expect(try FileTree.statusIfPresent(in: current, "d") == nil)
    }

    /// The default window, 2,000 levels (issue 10: this took 17 s when every entry walked from the root), and a
    /// window of 3 that the tree's depth overflows (a debug build applies ~0.2 ms per level: kept shallower).
    @Test(arguments: [(depth: 2000, descriptorLimit: 128), (depth: 300, descriptorLimit: 3)])
    func nestedDirectoriesApply(depth: Int, descriptorLimit: Int) throws {
        let base = try TestSupport.makeTempDirectory("deep")
        defer { try? FileManager.default.removeItem(atPath: base) }
        let summary = try LayerApplier.apply(
            MemorySource(try Self.deepLayer(depth: depth)), to: FilePath(base), descriptorLimit: descriptorLimit)
        #expect(summary.directories == depth && summary.files == depth)
        try Self.checkDeepTree(base, depth: depth)
    }

    /// The chain keeps at most its limit open, hands back the right directory after climbing past the open
    /// window, and `forget` drops the cut-off part.
    @Test func chainStaysBoundedAndCorrect() throws {
        let base = try TestSupport.makeTempDirectory("chain")
        defer { try? FileManager.default.removeItem(atPath: base) }
        let root = try FileTree.openAnchor(FilePath(base))
        defer { FileTree.closeQuietly(root) }
        var chain = DirectoryChain(descriptorLimit: 8)
        defer { chain.closeAll() }
        let deep = (0..<50).map { PathBytes("l\($0)") }
        let bottom = try chain.open(deep, below: root, create: true, entry: "x")
        #expect(chain.openDescriptorCount == 8)
        try FileTree.makeDirectory(in: bottom, "marker", permissions: 0o700)
        // Climb above the window, then come back down: the directories are the same ones.
        let shallow = try chain.open(Array(deep[0..<5]), below: root, create: false, entry: "x")
        #expect(chain.openDescriptorCount == 5)
        try FileTree.makeDirectory(in: shallow, "side", permissions: 0o700)
        let again = try chain.open(deep, below: root, create: false, entry: "x")
        #expect(try FileTree.status(in: again, "marker").kind == .directory)
        #expect(chain.openDescriptorCount == 8)
        #expect(FileManager.default.fileExists(atPath: base + "/l0/l1/l2/l3/l4/side"))
        // A cut at l2 leaves l0 and l1 (open again after the climb to l4).
        _ = try chain.open(Array(deep[0..<5]), below: root, create: false, entry: "x")
        chain.forget(Array(deep[0..<3]))
        #expect(chain.openDescriptorCount == 2)
        chain.forget([])
        #expect(chain.openDescriptorCount == 2)
    }

    /// A whiteout or opaque marker removes a directory the chain passed through; the next entry below it
    /// re-creates the path instead of writing into the removed directory.
    @Test func removedDirectoryIsRecreatedNotReused() throws {
        let base = try TestSupport.makeTempDirectory("recreate")
        defer { try? FileManager.default.removeItem(atPath: base) }
        let layer = try TestSupport.tar([
            (TarEntry(path: "a/b/c/f", kind: .regular, size: 1), [1]),
            (TarEntry(path: "a/.wh.b", kind: .regular), []),
            (TarEntry(path: "a/b/c/g", kind: .regular, size: 1), [2]),
            (TarEntry(path: "o/p/q/f", kind: .regular, size: 1), [3]),
            (TarEntry(path: "o/.wh..wh..opq", kind: .regular), []),
            (TarEntry(path: "o/p/q/g", kind: .regular, size: 1), [4]),
        ])
        _ = try LayerApplier.apply(MemorySource(layer), to: FilePath(base), descriptorLimit: 2)
        let tree = try TestSupport.tree(base)
        #expect(tree["a/b/c/f"] == nil && tree["a/b/c/g"]?.size == 1)
        #expect(tree["o/p/q/f"] == nil && tree["o/p/q/g"]?.size == 1)
    }
}
