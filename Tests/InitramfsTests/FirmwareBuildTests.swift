import Foundation
import Testing

/// `nodeinit initramfs` with a real module that declares firmware (r8169 and tg3 of Debian's kernel in
/// build/kernel, fetched by scripts/fetch-kernel.sh when missing) and a fake firmware directory made here: plain
/// files, a relative and an absolute symlink, one that leaves the directory, an `.xz` (which Debian's 6.1 loads),
/// a `.zst` (which it does not: decompressed), an `updates/` override; the archive must hold each under
/// `lib/firmware/<name>`, the path the kernel's direct loader reads without udev.
@Suite(
    .serialized,
    .enabled(if: FileManager.default.isExecutableFile(atPath: InitramfsTestSupport.nodeinit), "needs nodeinit built"))
struct FirmwareBuildTests {
    typealias Support = InitramfsTestSupport

    /// The fetched kernel's modules directory (downloaded and unpacked once, cached in build/kernel).
    static func kernelModules() throws -> (directory: String, version: String) {
        let output = String(
            decoding: try Support.run([Support.repository + "/scripts/fetch-kernel.sh"]), as: UTF8.self)
        var values: [String: String] = [:]
        for line in output.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            values[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        guard let directory = values["MODULES_DIR"], let version = values["KVER"] else {
            throw Support.CommandFailed(command: ["scripts/fetch-kernel.sh"], status: 0, stderr: output)
        }
        return (directory, version)
    }

    struct Tree {
        var base: String
        var firmware: String
        var contents: [String: [UInt8]]
    }

    /// The fake firmware directory, with distinct bytes in each file.
    static func makeFirmwareTree() throws -> Tree {
        let base = try Support.makeTemporaryDirectory("firmware")
        let firmware = base + "/firmware"
        var contents: [String: [UInt8]] = [:]
        func file(_ name: String, _ seed: UInt8, size: Int = 1500) throws {
            var bytes = [UInt8](repeating: 0, count: size)
            for index in bytes.indices { bytes[index] = UInt8(truncatingIfNeeded: index &* 31 &+ Int(seed)) }
            let path = firmware + "/" + name
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            contents[name] = bytes
        }
        try file("rtl_nic/rtl8168h-2.fw", 1)
        try file("rtl_nic/rtl8168g-2-real.fw", 2)
        try FileManager.default.createSymbolicLink(
            atPath: firmware + "/rtl_nic/rtl8168g-2.fw", withDestinationPath: "rtl8168g-2-real.fw")
        try FileManager.default.createSymbolicLink(
            atPath: firmware + "/rtl_nic/rtl8411-2.fw", withDestinationPath: "/lib/firmware/rtl_nic/rtl8168h-2.fw")
        try FileManager.default.createSymbolicLink(
            atPath: firmware + "/rtl_nic/rtl8411-1.fw", withDestinationPath: "../../../../../../etc/hostname")
        try file("rtl_nic/rtl8168e-3.fw", 3)
        try Support.run(["xz", "-k", "--check=crc32", firmware + "/rtl_nic/rtl8168e-3.fw"])
        try FileManager.default.removeItem(atPath: firmware + "/rtl_nic/rtl8168e-3.fw")
        try file("rtl_nic/rtl8168e-2.fw", 4)
        try Support.run(["zstd", "-q", "--rm", firmware + "/rtl_nic/rtl8168e-2.fw"])
        try file("rtl_nic/rtl8168d-1.fw", 5)
        try file("updates/rtl_nic/rtl8168d-1.fw", 6)
        try file("tigon/tg3.bin", 7, size: 2668)
        return Tree(base: base, firmware: firmware, contents: contents)
    }

    func build(_ arguments: [String], kernel: (directory: String, version: String), out: String) throws
        -> (output: String, entries: [String: Support.Entry])
    {
        let output = String(
            decoding: try Support.run(
                [
                    Support.nodeinit, "initramfs", "--modules-dir", kernel.directory, "--init", Support.nodeinit,
                    "--without-busybox", "--compress", "none", "--out", out,
                ] + arguments), as: UTF8.self)
        let entries = try Support.entries(try Support.plainArchive(out))
        return (output, Dictionary(entries.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first }))
    }

    @Test func declaredFirmwareIsPackedWhereTheKernelLooks() throws {
        let kernel = try Self.kernelModules()
        let tree = try Self.makeFirmwareTree()
        defer { try? FileManager.default.removeItem(atPath: tree.base) }
        try Support.write("r8169\ntg3\n", to: tree.base + "/modules.list")
        let (output, entries) = try build(
            ["--modules-list", tree.base + "/modules.list", "--firmware-dir", tree.firmware, "--verbose"],
            kernel: kernel, out: tree.base + "/a.img")

        // The summary: r8169 declares 20 files and tg3 4 in Debian's 6.1; found here: 6 of r8169's (one more is
        // refused), 1 of tg3's.
        #expect(output.contains("initramfs: firmware: 24 files declared by 2 modules, 7 found"), "\(output)")
        #expect(output.contains("16 missing, 1 refused"), "\(output)")
        #expect(output.contains("the kernel loads xz firmware as is"), "\(output)")
        #expect(output.contains("initramfs: firmware missing for: r8169 (14 of 20), tg3 (3 of 4)"), "\(output)")
        #expect(output.contains("initramfs: firmware: r8169: rtl_nic/rtl8125b-2.fw: MISSING"), "\(output)")
        #expect(
            output.contains("r8169: rtl_nic/rtl8411-1.fw: REFUSED: the symlink rtl_nic/rtl8411-1.fw -> "), "\(output)")

        func data(_ name: String) -> [UInt8]? { entries["lib/firmware/" + name]?.data }
        func isFile(_ name: String) -> Bool { (entries["lib/firmware/" + name]?.mode ?? 0) & 0o170000 == 0o100000 }
        func link(_ name: String) -> String? {
            guard let entry = entries["lib/firmware/" + name], entry.mode & 0o170000 == 0o120000 else { return nil }
            return String(decoding: entry.data, as: UTF8.self)
        }
        #expect(
            isFile("rtl_nic/rtl8168h-2.fw") && data("rtl_nic/rtl8168h-2.fw") == tree.contents["rtl_nic/rtl8168h-2.fw"])
        #expect(data("rtl_nic/rtl8168g-2-real.fw") == tree.contents["rtl_nic/rtl8168g-2-real.fw"])
        #expect(link("rtl_nic/rtl8168g-2.fw") == "/lib/firmware/rtl_nic/rtl8168g-2-real.fw")
        #expect(link("rtl_nic/rtl8411-2.fw") == "/lib/firmware/rtl_nic/rtl8168h-2.fw")
        #expect(entries["lib/firmware/rtl_nic/rtl8411-1.fw"] == nil)
        // xz kept as it is (CONFIG_FW_LOADER_COMPRESS_XZ=y in build/kernel's config), zstd decompressed.
        let xz = try Data(contentsOf: URL(fileURLWithPath: tree.firmware + "/rtl_nic/rtl8168e-3.fw.xz"))
        #expect(data("rtl_nic/rtl8168e-3.fw.xz") == [UInt8](xz))
        #expect(entries["lib/firmware/rtl_nic/rtl8168e-3.fw"] == nil)
        #expect(
            isFile("rtl_nic/rtl8168e-2.fw") && data("rtl_nic/rtl8168e-2.fw") == tree.contents["rtl_nic/rtl8168e-2.fw"])
        // updates/ wins, packed under lib/firmware itself.
        #expect(data("rtl_nic/rtl8168d-1.fw") == tree.contents["updates/rtl_nic/rtl8168d-1.fw"])
        #expect(data("tigon/tg3.bin") == tree.contents["tigon/tg3.bin"])
        // Parents first, as the kernel's unpacker needs; nothing else from the firmware directory.
        #expect(entries["lib/firmware"]?.mode == 0o040755 && entries["lib/firmware/rtl_nic"]?.mode == 0o040755)
        let packed = entries.keys.filter {
            $0.hasPrefix("lib/firmware/") && !$0.hasSuffix("rtl_nic") && !$0.hasSuffix("tigon")
        }
        // Six files and two symlinks.
        #expect(packed.count == 8, "\(packed.sorted())")
        #expect(entries["lib/modules/\(kernel.version)/kernel/drivers/net/ethernet/realtek/r8169.ko"] != nil)
    }

    @Test func firmwareAndDriversCanBeLeftOut() throws {
        let kernel = try Self.kernelModules()
        let tree = try Self.makeFirmwareTree()
        defer { try? FileManager.default.removeItem(atPath: tree.base) }
        try Support.write("r8169\ntg3\n", to: tree.base + "/modules.list")
        let common = ["--modules-list", tree.base + "/modules.list", "--firmware-dir", tree.firmware]

        let without = try build(common + ["--without-firmware"], kernel: kernel, out: tree.base + "/b.img")
        #expect(without.output.contains("initramfs: firmware: none packed (--without-firmware); 24 files declared"))
        #expect(!without.entries.keys.contains { $0.hasPrefix("lib/firmware") })

        try Support.write("# not this NIC\nr8169\nlibphy\n", to: tree.base + "/exclude.list")
        let excluded = try build(
            common + ["--exclude-list", tree.base + "/exclude.list", "--exclude-module", "e1000"], kernel: kernel,
            out: tree.base + "/c.img")
        let modules = "lib/modules/\(kernel.version)/kernel/drivers/net"
        #expect(excluded.entries["\(modules)/ethernet/realtek/r8169.ko"] == nil)
        #expect(excluded.entries["\(modules)/ethernet/broadcom/tg3.ko"] != nil)
        // libphy is tg3's dependency: shipped all the same, and said so; e1000 was not asked for.
        #expect(excluded.entries["\(modules)/phy/libphy.ko"] != nil)
        #expect(
            excluded.output.contains("initramfs: excluded libphy shipped all the same: tg3 needs it"),
            "\(excluded.output)")
        #expect(excluded.output.contains("initramfs: excluded but not in the list anyway: e1000"), "\(excluded.output)")
        #expect(
            excluded.output.contains("initramfs: firmware: 4 files declared by 1 modules, 1 found"),
            "\(excluded.output)")
        #expect(excluded.entries["lib/firmware/tigon/tg3.bin"] != nil)
        #expect(!excluded.entries.keys.contains { $0.hasPrefix("lib/firmware/rtl_nic") })
    }

    /// Without --firmware-dir the image root's lib/firmware is used: the root that holds lib/modules/<version>.
    @Test func theImageRootsFirmwareByDefault() throws {
        let kernel = try Self.kernelModules()
        let tree = try Self.makeFirmwareTree()
        defer { try? FileManager.default.removeItem(atPath: tree.base) }
        let root = tree.base + "/image"
        let modules = root + "/lib/modules/" + kernel.version
        try FileManager.default.createDirectory(atPath: root + "/lib/modules", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: modules, withDestinationPath: kernel.directory)
        try FileManager.default.moveItem(atPath: tree.firmware, toPath: root + "/lib/firmware")
        try Support.write("tg3\n", to: tree.base + "/modules.list")
        let output = String(
            decoding: try Support.run([
                Support.nodeinit, "initramfs", "--modules-dir", modules, "--init", Support.nodeinit,
                "--without-busybox", "--compress", "none", "--out", tree.base + "/d.img", "--modules-list",
                tree.base + "/modules.list",
            ]), as: UTF8.self)
        #expect(output.contains("1 found (2668 bytes), 3 missing (from \(root)/lib/firmware;"), "\(output)")
        // No boot/config-<version> in this image root: compressed firmware would be decompressed.
        #expect(output.contains("kernel configuration not found"), "\(output)")
    }
}
