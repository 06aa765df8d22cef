import CNodeShim
import Glibc
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

    /// switch_root's child frees the old root while the image's init starts: everything below goes, a symlink's
    /// target outside stays, the descriptor the parent holds stays usable.
    @Test func theBackgroundRemovalEmptiesTheTreeWithoutFollowingLinks() throws {
        let base = "/tmp/initcore-nodesys-bgremove-\(MonotonicInstant.now().nanoseconds)"
        let outside = base + "-outside"
        try FileSystem.makeDirectory(base + "/lib/modules/6.1/kernel", mode: 0o700)
        try FileContents.write("kept\n", to: outside)
        for index in 0..<300 { try FileContents.write("\(index)\n", to: base + "/lib/modules/6.1/kernel/m\(index).ko") }
        try FileContents.write("init\n", to: base + "/init")
        #expect(symlink(outside, base + "/lib/link") == 0)
        #expect(SwitchRootTestAccess.removeContentsInChild(base) == 0)  // exited 0
        #expect(try FileSystem.entries(of: base).isEmpty)
        #expect(try FileContents.string(at: outside) == "kept\n")
        _ = SwitchRootTestAccess.removeDirectory(base)
        _ = unlink(outside)
    }

    /// The process that loads the remaining drivers after switch_root: its descriptor 3 is the old root, its standard
    /// streams /dev/null, every other descriptor closed.
    @Test func theSuccessorKeepsOnlyTheOldRoot() throws {
        let base = "/tmp/initcore-nodesys-successor-\(MonotonicInstant.now().nanoseconds)"
        try FileSystem.makeDirectory(base, mode: 0o700)
        let probe = open("/", O_RDONLY | O_DIRECTORY)
        defer { close(probe) }
        #expect(probe > 3)
        #expect(SwitchRootTestAccess.successorChild(root: base, probe: probe) == 0)
        #expect(FileSystem.exists(base + "/marker"))
        #expect(!SwitchRoot.isSingleThreaded())  // Swift Testing's threads: switch_root would do the work itself.
        _ = SwitchRootTestAccess.removeContents(base)
        _ = SwitchRootTestAccess.removeDirectory(base)
    }

    @Test func procReadsWithoutSize() throws {
        let text = try FileContents.string(at: "/proc/self/status")
        #expect(text.hasPrefix("Name:"))
    }
}

/// The NFS root's readahead goes to the backing device of the mount, found by its device number.
@Suite struct MountReadaheadTests {
    @Test func theBackingDevicesFileIsSetAndTheOldValueReturned() throws {
        let base = "/tmp/initcore-nodesys-readahead-\(MonotonicInstant.now().nanoseconds)"
        let mounted = base + "/mounted"
        try FileSystem.makeDirectory(mounted, mode: 0o700)
        var info = stat()
        #expect(stat(mounted, &info) == 0)
        let device = "\(nodeinit_major(info.st_dev)):\(nodeinit_minor(info.st_dev))"
        let sysfs = base + "/sys"
        try FileSystem.makeDirectory(sysfs + "/class/bdi/" + device, mode: 0o700)
        try FileContents.write("128\n", to: sysfs + "/class/bdi/\(device)/read_ahead_kb")

        #expect(
            try MountReadahead.controlFile(ofMountAt: mounted, sysfs: sysfs)
                == "\(sysfs)/class/bdi/\(device)/read_ahead_kb")
        #expect(try MountReadahead.set(1024, ofMountAt: mounted, sysfs: sysfs) == 128)
        #expect(try FileContents.string(at: sysfs + "/class/bdi/\(device)/read_ahead_kb") == "1024\n")
        #expect(throws: MountReadahead.Error.stat(path: base + "/missing", .noSuchFileOrDirectory)) {
            try MountReadahead.set(1024, ofMountAt: base + "/missing", sysfs: sysfs)
        }
        _ = try ChildCommand.run(["/bin/rm", "-rf", "--one-file-system", base])
    }
}
