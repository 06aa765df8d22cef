import Foundation
import InitramfsImage
import Testing

/// The newc writer on its own: header fields, padding, parents first, errors; read back by Debian's cpio.
struct CpioNewcWriterTests {
    func sampleArchive() throws -> [UInt8] {
        var writer = CpioNewcWriter(sink: CpioMemorySink())
        try writer.directory(Array("dev".utf8))
        try writer.characterDevice(Array("dev/console".utf8), major: 5, minor: 1, permissions: 0o600)
        try writer.file(Array("init".utf8), permissions: 0o755, contents: Array("#!/bin/sh\necho hi\n".utf8))
        try writer.symlink(Array("proc/self/exe".utf8), target: Array("/init".utf8))
        try writer.beginFile(Array("lib/modules/x/a.ko".utf8), permissions: 0o644, size: 5)
        try Array("ab".utf8).withUnsafeBytes { try writer.writeData($0) }
        try Array("cde".utf8).withUnsafeBytes { try writer.writeData($0) }
        try writer.finishFile()
        try writer.file(Array("empty".utf8), permissions: 0o600, contents: [])
        try writer.finish()
        return writer.sink.bytes
    }

    @Test func entriesCarryRootOwnershipMtimeZeroAndParentsFirst() throws {
        let entries = try InitramfsTestSupport.entries(try sampleArchive())
        #expect(
            entries.map(\.name) == [
                "dev", "dev/console", "init", "proc", "proc/self", "proc/self/exe", "lib", "lib/modules",
                "lib/modules/x", "lib/modules/x/a.ko", "empty", "TRAILER!!!",
            ])
        #expect(entries.map(\.inode) == Array(1...12))
        for entry in entries {
            #expect(entry.uid == 0 && entry.gid == 0 && entry.mtime == 0)
        }
        #expect(entries[0].mode == 0o040755 && entries[0].links == 2)
        #expect(entries[1].mode == 0o020600 && entries[1].rdevMajor == 5 && entries[1].rdevMinor == 1)
        #expect(entries[5].mode == 0o120777 && entries[5].data == Array("/init".utf8))
        #expect(entries[9].data == Array("abcde".utf8))
        #expect(entries[11].mode == 0 && entries[11].links == 1)
    }

    @Test func everyEntryStartsOnAFourByteBoundary() throws {
        let archive = try sampleArchive()
        #expect(archive.count % 4 == 0)
        var offset = 0
        for entry in try InitramfsTestSupport.entries(archive) {
            #expect(Array(archive[offset..<(offset + 6)]) == Array("070701".utf8), "\(entry.name) at \(offset)")
            let nameEnd = offset + 110 + entry.name.utf8.count + 1
            offset = ((nameEnd + 3) & ~3) + ((entry.data.count + 3) & ~3)
        }
        #expect(offset == archive.count)
    }

    @Test func debianCpioListsAndExtractsTheSameEntries() throws {
        let directory = try InitramfsTestSupport.makeTemporaryDirectory("cpio")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data(try sampleArchive()).write(to: URL(fileURLWithPath: directory + "/archive.cpio"))
        let listing = String(
            decoding: try InitramfsTestSupport.run(["sh", "-c", "cpio -it --quiet < \(directory)/archive.cpio"]),
            as: UTF8.self)
        #expect(
            listing.split(separator: "\n").map(String.init) == [
                "dev", "dev/console", "init", "proc", "proc/self", "proc/self/exe", "lib", "lib/modules",
                "lib/modules/x", "lib/modules/x/a.ko", "empty",
            ])
        // Extract all but the device node (creating one needs privileges a test should not assume).
        try InitramfsTestSupport.run([
            "sh", "-c",
            "mkdir \(directory)/out && cd \(directory)/out && cpio -idm --quiet --nonmatching 'dev/console' "
                + "< ../archive.cpio",
        ])
        #expect(
            try String(contentsOfFile: directory + "/out/init", encoding: .utf8) == "#!/bin/sh\necho hi\n")
        #expect(try String(contentsOfFile: directory + "/out/lib/modules/x/a.ko", encoding: .utf8) == "abcde")
        #expect(
            try FileManager.default.destinationOfSymbolicLink(atPath: directory + "/out/proc/self/exe") == "/init")
        let mode = try FileManager.default.attributesOfItem(atPath: directory + "/out/init")[.posixPermissions] as? Int
        #expect(mode == 0o755)
    }

    @Test func duplicateNamesAndShortFilesAreRefused() throws {
        var writer = CpioNewcWriter(sink: CpioMemorySink())
        try writer.file(Array("init".utf8), permissions: 0o755, contents: [1])
        #expect(throws: CpioNewcWriter<CpioMemorySink>.Error.duplicateEntry("init")) {
            try writer.file(Array("/init".utf8), permissions: 0o755, contents: [1])
        }
        try writer.beginFile(Array("short".utf8), permissions: 0o644, size: 4)
        try [UInt8(1)].withUnsafeBytes { try writer.writeData($0) }
        #expect(throws: CpioNewcWriter<CpioMemorySink>.Error.sizeMismatch(name: "short", declared: 4, written: 1)) {
            try writer.finishFile()
        }
    }

    @Test func directoryAlreadyWrittenIsNotRepeated() throws {
        var writer = CpioNewcWriter(sink: CpioMemorySink())
        try writer.directory(Array("usr/bin".utf8))
        try writer.directory(Array("usr".utf8))
        try writer.symlink(Array("usr/bin/env".utf8), target: Array("/bin/busybox".utf8))
        try writer.finish()
        let names = try InitramfsTestSupport.entries(writer.sink.bytes).map(\.name)
        #expect(names == ["usr", "usr/bin", "usr/bin/env", "TRAILER!!!"])
    }

    @Test func staticAndDynamicExecutablesAreToldApart() throws {
        let busybox = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "/bin/busybox")).prefix(65536))
        #expect(ELFLinkage.classify(busybox) == .staticExecutable)
        let shell = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "/bin/sh")).prefix(65536))
        #expect(ELFLinkage.classify(shell) == .dynamicExecutable)
        #expect(ELFLinkage.classify(Array("#!/bin/sh\n".utf8)) == .notELF)
    }
}
