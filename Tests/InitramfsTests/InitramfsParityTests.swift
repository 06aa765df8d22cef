import Foundation
import Testing

/// `nodeinit initramfs` against the Python builder it replaces (initramfs/mkinitramfs.py, kept as the
/// reference), on a fake modules tree made here: the archives must hold the same entries in the same order,
/// field for field (names, modes, uid/gid, links, inode numbers, device numbers, link targets, file bytes).
@Suite(
    .enabled(if: FileManager.default.isExecutableFile(atPath: InitramfsTestSupport.nodeinit), "needs nodeinit built"))
struct InitramfsParityTests {
    typealias Support = InitramfsTestSupport

    @Test(arguments: ["none", "gzip", "zstd"])
    func swiftAndPythonBuildersWriteTheSameEntries(_ compression: String) throws {
        let base = try Support.makeTemporaryDirectory("parity")
        defer { try? FileManager.default.removeItem(atPath: base) }
        let modules = try Support.makeFakeModulesTree(root: base + "/image")
        try Support.write(Support.fakeModuleList, to: base + "/modules.list")
        try Support.write("#!/bin/sh\necho fake init\n", to: base + "/init", mode: 0o755)
        try Support.write("extra\n", to: base + "/extra.conf", mode: 0o640)
        let common = [
            "--modules-dir", modules, "--init", base + "/init", "--busybox", "/bin/busybox",
            "--modules-list", base + "/modules.list", "--add-module", "e1000", "--add-file",
            base + "/extra.conf:etc/extra.conf", "--compress", compression, "--level", "1",
        ]
        try Support.run([Support.nodeinit, "initramfs", "--quiet", "--out", base + "/swift.img"] + common)
        try Support.run(
            [
                "python3", Support.repository + "/initramfs/mkinitramfs.py", "--quiet", "--out", base + "/python.img",
            ] + common)
        let swift = try Support.entries(try Support.plainArchive(base + "/swift.img"))
        let python = try Support.entries(try Support.plainArchive(base + "/python.img"))
        #expect(swift.count == python.count)
        for (ours, theirs) in zip(swift, python) where ours != theirs {
            Issue.record("first difference: nodeinit \(ours) / python \(theirs)")
            break
        }
        let names = Set(swift.map(\.name))
        let kernel = "lib/modules/\(Support.fakeKernelVersion)"
        for expected in [
            "init", "proc/self/exe", "dev/console", "bin/busybox", "bin/sh", "etc/extra.conf",
            "\(kernel)/kernel/fs/nfs/nfsv4.ko", "\(kernel)/kernel/net/sunrpc/sunrpc.ko",
            "\(kernel)/kernel/crypto/crc32c_generic.ko", "\(kernel)/modules.dep", "\(kernel)/modules.alias",
            "\(kernel)/modules.builtin", "\(kernel)/modules.order",
        ] {
            #expect(names.contains(expected), "\(expected) missing")
        }
        #expect(!names.contains("\(kernel)/kernel/drivers/unused/unused.ko"))
        #expect(!names.contains("\(kernel)/modules.symbols"))
        #expect(!names.contains("sbin/init") && !names.contains("linuxrc"))
    }

    @Test func compiledInListIsPrinted() throws {
        let text = String(
            decoding: try Support.run([Support.nodeinit, "initramfs", "--print-modules-list"]), as: UTF8.self)
        #expect(text.contains("\nnfsv4\n") && text.contains("\nmlx5_core\n"))
    }

    @Test func unknownExtraModuleFailsNamingItAndTheModulesDirectory() throws {
        let base = try Support.makeTemporaryDirectory("unknown")
        defer { try? FileManager.default.removeItem(atPath: base) }
        let modules = try Support.makeFakeModulesTree(root: base + "/image")
        do {
            try Support.run([
                Support.nodeinit, "initramfs", "--modules-dir", modules, "--init", Support.nodeinit,
                "--without-busybox", "--add-module", "no_such_driver", "--out", base + "/out.img",
            ])
            Issue.record("nodeinit initramfs accepted an unknown --add-module")
        } catch let failure as Support.CommandFailed {
            #expect(failure.stderr.contains("no_such_driver") && failure.stderr.contains(modules))
        }
        #expect(!FileManager.default.fileExists(atPath: base + "/out.img"))
        // Nothing left behind: no staging directory, no partial archive.
        #expect(try FileManager.default.contentsOfDirectory(atPath: base) == ["image"])
    }

    @Test func dynamicBusyboxIsRefused() throws {
        let base = try Support.makeTemporaryDirectory("dynamic")
        defer { try? FileManager.default.removeItem(atPath: base) }
        let modules = try Support.makeFakeModulesTree(root: base + "/image")
        do {
            try Support.run([
                Support.nodeinit, "initramfs", "--modules-dir", modules, "--init", Support.nodeinit,
                "--busybox", "/bin/sh", "--out", base + "/out.img",
            ])
            Issue.record("a dynamically linked busybox was accepted")
        } catch let failure as Support.CommandFailed {
            #expect(failure.stderr.contains("/bin/sh is dynamically linked"))
        }
    }
}

/// The WalT kernel hook (integrations/walt/z51-nodeinit-boot-files) run by dash on a fake image root, as the
/// kernel's postinst.d would run it.
@Suite(
    .enabled(if: FileManager.default.isExecutableFile(atPath: InitramfsTestSupport.nodeinit), "needs nodeinit built"))
struct WaltHookTests {
    typealias Support = InitramfsTestSupport
    static let hook = Support.repository + "/integrations/walt/z51-nodeinit-boot-files"

    @Test(arguments: [true, false])
    func hookWritesTheInitrdWhereTheBootLinksPoint(withBusybox: Bool) throws {
        let root = try Support.makeTemporaryDirectory("walt")
        defer { try? FileManager.default.removeItem(atPath: root) }
        _ = try Support.makeFakeModulesTree(root: root)
        if withBusybox {
            try FileManager.default.createDirectory(atPath: root + "/bin", withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(
                atPath: root + "/bin/busybox", withDestinationPath: "/bin/busybox")
        }
        let version = Support.fakeKernelVersion
        try Support.run(
            ["dash", Self.hook, version, "/boot/vmlinuz-\(version)"],
            environment: [
                "NODEINIT_IMAGE_ROOT": root, "NODEINIT": Support.nodeinit, "NODEINIT_LEVEL": "1",
                "DEB_MAINT_PARAMS": "configure",
            ])
        let initrd = "\(root)/boot/initrd.img-\(version)"
        let listing = String(
            decoding: try Support.run(["sh", "-c", "zstd -dc '\(initrd)' | cpio -it --quiet"]), as: UTF8.self)
        let names = Set(listing.split(separator: "\n").map(String.init))
        let kernel = "lib/modules/\(version)"
        for expected in [
            "init", "\(kernel)/kernel/fs/nfs/nfs.ko", "\(kernel)/kernel/fs/ext4/ext4.ko", "\(kernel)/modules.dep",
        ] {
            #expect(names.contains(expected), "\(expected) missing")
        }
        #expect(names.contains("bin/busybox") == withBusybox)
        // The packed /init is the node's binary beside the nodeinit that ran.
        let entries = try Support.entries(try Support.plainArchive(initrd))
        let packed = entries.first { $0.name == "init" }?.data
        #expect(packed == [UInt8](try Data(contentsOf: URL(fileURLWithPath: Support.nodeinit + "-node"))))
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/boot") == ["initrd.img-\(version)"])
    }

    @Test func hookDoesNothingForOtherMaintainerActions() throws {
        let root = try Support.makeTemporaryDirectory("walt-abort")
        defer { try? FileManager.default.removeItem(atPath: root) }
        _ = try Support.makeFakeModulesTree(root: root)
        try Support.run(
            ["dash", Self.hook, Support.fakeKernelVersion],
            environment: [
                "NODEINIT_IMAGE_ROOT": root, "NODEINIT": Support.nodeinit, "DEB_MAINT_PARAMS": "abort-configure",
            ])
        #expect(!FileManager.default.fileExists(atPath: root + "/boot"))
    }

    @Test func hookFailsClearlyWithoutModulesDep() throws {
        let root = try Support.makeTemporaryDirectory("walt-nodep")
        defer { try? FileManager.default.removeItem(atPath: root) }
        do {
            try Support.run(
                ["dash", Self.hook, "1.2.3"], environment: ["NODEINIT_IMAGE_ROOT": root, "NODEINIT": Support.nodeinit])
            Issue.record("the hook succeeded without modules.dep")
        } catch let failure as Support.CommandFailed {
            #expect(failure.stderr.contains("\(root)/lib/modules/1.2.3/modules.dep is missing"))
        }
    }
}
