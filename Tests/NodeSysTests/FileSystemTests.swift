import Testing

@testable import NodeSys

@Suite struct FileSystemTests {
    @Test func readWriteAndDirectories() throws {
        let base = "/tmp/initcore-nodesys-test-\(MonotonicInstant.now().nanoseconds)"
        try FileSystem.makeDirectory(base + "/a/b", mode: 0o700)
        #expect(FileSystem.isDirectory(base + "/a/b"))
        try FileContents.write("one\n", to: base + "/a/file")
        try FileContents.write("two\n", to: base + "/a/file", append: true)
        #expect(try FileContents.string(at: base + "/a/file") == "one\ntwo\n")
        #expect(try FileSystem.entries(of: base + "/a").sorted() == ["b", "file"])
        #expect(throws: FileContents.Error.open(path: base + "/missing", .noSuchFileOrDirectory)) {
            try FileContents.bytes(at: base + "/missing")
        }
        #expect(FileSystem.isMountPoint("/"))
        #expect(!FileSystem.isMountPoint(base))
        let removed = SwitchRootTestAccess.removeContents(base)
        #expect(removed == 3)  // a, a/b, a/file
        #expect(try FileSystem.entries(of: base).isEmpty)
        _ = SwitchRootTestAccess.removeDirectory(base)
    }

    @Test func procReadsWithoutSize() throws {
        let text = try FileContents.string(at: "/proc/self/status")
        #expect(text.hasPrefix("Name:"))
    }
}
