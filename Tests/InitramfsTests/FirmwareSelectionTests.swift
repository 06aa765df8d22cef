import Testing

@testable import InitramfsBuild
@testable import InitramfsImage

/// A minimal kernel-module-like ELF relocatable object: a NULL section, `.text`, `.modinfo` with `info`, and the
/// section-name table, in either class and byte order. `extendedNumbering` writes e_shnum = 0 and e_shstrndx =
/// 0xffff with the real values in section 0 (what the ELF spec prescribes past 0xff00 sections).
func makeModuleELF(
    modinfo: [String], is64: Bool = true, littleEndian: Bool = true, extendedNumbering: Bool = false,
    modinfoName: String = ".modinfo"
) -> [UInt8] {
    var bytes: [UInt8] = []
    func put(_ value: UInt64, width: Int, at offset: Int) {
        for index in 0..<width {
            let shift = UInt64(8 * (littleEndian ? index : width - 1 - index))
            bytes[offset + index] = UInt8(truncatingIfNeeded: value >> shift)
        }
    }
    let headerSize = is64 ? 64 : 52
    let entrySize = is64 ? 64 : 40
    bytes = [UInt8](repeating: 0, count: headerSize)
    bytes[0] = 0x7f
    bytes[1] = 0x45
    bytes[2] = 0x4c
    bytes[3] = 0x46
    bytes[4] = is64 ? 2 : 1
    bytes[5] = littleEndian ? 1 : 2
    bytes[6] = 1
    // .text, then .modinfo, then .shstrtab.
    let text: [UInt8] = [0x90, 0x90, 0xc3, 0]
    var info: [UInt8] = []
    for entry in modinfo { info += Array(entry.utf8) + [0] }
    let names: [UInt8] = [0] + Array(".text".utf8) + [0] + Array(modinfoName.utf8) + [0] + Array(".shstrtab".utf8) + [0]
    let textOffset = bytes.count
    bytes += text
    let infoOffset = bytes.count
    bytes += info
    let namesOffset = bytes.count
    bytes += names
    while bytes.count % 8 != 0 { bytes.append(0) }
    let tableOffset = bytes.count
    bytes += [UInt8](repeating: 0, count: entrySize * 4)
    let sections: [(name: Int, offset: Int, size: Int)] = [
        (0, 0, 0), (1, textOffset, text.count), (7, infoOffset, info.count),
        (8 + modinfoName.utf8.count, namesOffset, names.count),
    ]
    for (index, section) in sections.enumerated() {
        let start = tableOffset + index * entrySize
        put(UInt64(section.name), width: 4, at: start)
        put(index == 0 ? 0 : (index == 3 ? 3 : 1), width: 4, at: start + 4)  // SHT_PROGBITS, SHT_STRTAB
        if is64 {
            put(UInt64(section.offset), width: 8, at: start + 24)
            put(UInt64(section.size), width: 8, at: start + 32)
        } else {
            put(UInt64(section.offset), width: 4, at: start + 16)
            put(UInt64(section.size), width: 4, at: start + 20)
        }
    }
    if extendedNumbering {
        let zero = tableOffset
        if is64 {
            put(4, width: 8, at: zero + 32)
            put(3, width: 4, at: zero + 40)
        } else {
            put(4, width: 4, at: zero + 20)
            put(3, width: 4, at: zero + 24)
        }
    }
    let header: (shoff: Int, shentsize: Int, shnum: Int, shstrndx: Int) =
        is64 ? (0x28, 0x3a, 0x3c, 0x3e) : (0x20, 0x2e, 0x30, 0x32)
    put(1, width: 2, at: 16)  // ET_REL
    put(UInt64(tableOffset), width: is64 ? 8 : 4, at: header.shoff)
    put(UInt64(entrySize), width: 2, at: header.shentsize)
    put(extendedNumbering ? 0 : 4, width: 2, at: header.shnum)
    put(extendedNumbering ? 0xffff : 3, width: 2, at: header.shstrndx)
    return bytes
}

@Suite struct ModuleInfoTests {
    /// r8169's own declarations (modinfo -F firmware on Debian's 6.1 module), with the keys around them.
    static let r8169Info = [
        "license=GPL", "firmware=rtl_nic/rtl8125b-2.fw", "firmware=rtl_nic/rtl8168h-2.fw",
        "description=RealTek RTL-8169 Gigabit Ethernet driver", "firmware=rtl_nic/rtl8168d-1.fw",
        "alias=pci:v000010ECd00008169sv*sd*bc*sc*i*", "depends=mdio_devres,libphy", "name=r8169",
        "vermagic=6.1.0-57-amd64 SMP preempt mod_unload modversions ",
    ]

    @Test(arguments: [
        (true, true, false), (true, false, false), (false, true, false), (false, false, false),
        (true, true, true), (false, false, true),
    ])
    func firmwareEntriesInEveryClassAndByteOrder(is64: Bool, littleEndian: Bool, extended: Bool) throws {
        let elf = makeModuleELF(
            modinfo: Self.r8169Info, is64: is64, littleEndian: littleEndian, extendedNumbering: extended)
        #expect(
            try ModuleInfo.firmware(inModule: elf)
                == ["rtl_nic/rtl8125b-2.fw", "rtl_nic/rtl8168h-2.fw", "rtl_nic/rtl8168d-1.fw"])
        let entries = try ModuleInfo.entries(inModule: elf)
        #expect(entries.first { $0.key == "name" }?.value == "r8169")
        #expect(entries.filter { $0.key == "alias" }.count == 1)
    }

    @Test func repeatedAndEmptyDeclarationsCountOnce() throws {
        let elf = makeModuleELF(modinfo: ["firmware=a.bin", "firmware=", "firmware=a.bin", "firmware=b/c.bin"])
        #expect(try ModuleInfo.firmware(inModule: elf) == ["a.bin", "b/c.bin"])
    }

    @Test func aModuleWithoutDeclarationsHasNone() throws {
        #expect(try ModuleInfo.firmware(inModule: makeModuleELF(modinfo: ["license=GPL", "name=e1000"])).isEmpty)
    }

    @Test func notAModule() {
        #expect(throws: ModuleInfo.Error.notELF) {
            try ModuleInfo.firmware(inModule: Array("fake module kernel/fs/nfs/nfs.ko\n".utf8))
        }
        #expect(throws: ModuleInfo.Error.noModinfoSection) {
            try ModuleInfo.firmware(inModule: makeModuleELF(modinfo: ["firmware=x"], modinfoName: ".modinfx"))
        }
    }

    /// Every cut of a module either reads or fails with an error: never a trap, never a wrong list.
    @Test func everyTruncationIsAnErrorOrTheFullAnswer() {
        let elf = makeModuleELF(modinfo: Self.r8169Info)
        for length in 0..<elf.count {
            do {
                let names = try ModuleInfo.firmware(inModule: Array(elf[0..<length]))
                #expect(names.count == 3, "cut at \(length) gave \(names)")
            } catch {
                continue
            }
        }
    }

    @Test func hostileSectionTablesAreRefused() {
        var elf = makeModuleELF(modinfo: ["firmware=x"])
        // e_shoff far past the end.
        for index in 0..<8 { elf[0x28 + index] = index == 7 ? 0x7f : 0xff }
        #expect(throws: ModuleInfo.Error.self) { try ModuleInfo.firmware(inModule: elf) }
        var names = makeModuleELF(modinfo: ["firmware=x"])
        names[0x3e] = 9  // e_shstrndx beyond e_shnum
        #expect(throws: ModuleInfo.Error.truncated(what: "the section table")) {
            try ModuleInfo.firmware(inModule: names)
        }
    }
}

@Suite struct FirmwareSelectionTests {
    typealias Support = FirmwareSelection.LoaderSupport

    /// build/kernel's config for Debian 12's 6.1 kernel, the options as they stand there.
    static let debian61 = """
        CONFIG_FW_LOADER=y
        CONFIG_FW_LOADER_PAGED_BUF=y
        CONFIG_FW_LOADER_SYSFS=y
        CONFIG_EXTRA_FIRMWARE=""
        CONFIG_FW_LOADER_USER_HELPER=y
        # CONFIG_FW_LOADER_USER_HELPER_FALLBACK is not set
        CONFIG_FW_LOADER_COMPRESS=y
        CONFIG_FW_LOADER_COMPRESS_XZ=y
        # CONFIG_FW_LOADER_COMPRESS_ZSTD is not set
        """

    @Test(arguments: [
        (debian61, Support(xz: true, zstd: false)),
        // 5.10 (Debian 11): one option, xz only.
        ("CONFIG_FW_LOADER=y\nCONFIG_FW_LOADER_COMPRESS=y\n", Support(xz: true, zstd: false)),
        ("CONFIG_FW_LOADER=y\n# CONFIG_FW_LOADER_COMPRESS is not set\n", Support(xz: false, zstd: false)),
        // 6.x with both.
        (
            "CONFIG_FW_LOADER_COMPRESS=y\nCONFIG_FW_LOADER_COMPRESS_XZ=y\nCONFIG_FW_LOADER_COMPRESS_ZSTD=y\n",
            Support(xz: true, zstd: true)
        ),
        (
            "CONFIG_FW_LOADER_COMPRESS=y\n# CONFIG_FW_LOADER_COMPRESS_XZ is not set\nCONFIG_FW_LOADER_COMPRESS_ZSTD=y\n",
            Support(xz: false, zstd: true)
        ),
        ("", Support(xz: false, zstd: false)),
    ])
    func loaderSupportFromTheKernelConfig(_ config: String, _ expected: Support) {
        #expect(Support(kernelConfig: config) == expected)
    }

    @Test(
        arguments: [
            ("rtl_nic/rtl8168h-2.fw", nil), ("bnx2x/bnx2x-e2-7.13.21.0.fw", nil), ("intel/ice/ddp/ice.pkg", nil),
            ("", "empty name"), ("/lib/firmware/x.fw", "absolute name"), ("../etc/shadow", "empty, . or .. component"),
            ("a//b", "empty, . or .. component"), ("a/./b", "empty, . or .. component"),
            ("mrvl/*.bin", "a pattern, not a file name (not expanded)"), ("a\nb", "control characters in the name"),
        ] as [(String, String?)])
    func declaredNamesAreChecked(_ name: String, _ problem: String?) {
        #expect(FirmwareSelection.problem(withName: name) == problem)
    }

    /// drivers/base/firmware_loader/main.c: fw_path order, and in each the plain name before .zst before .xz.
    @Test func searchOrderIsTheKernels() {
        let order = FirmwareSelection.searchOrder(for: "tigon/tg3.bin", kernelVersion: "6.1.0-57-amd64").map(\.path)
        #expect(
            order == [
                "updates/6.1.0-57-amd64/tigon/tg3.bin", "updates/6.1.0-57-amd64/tigon/tg3.bin.zst",
                "updates/6.1.0-57-amd64/tigon/tg3.bin.xz", "updates/tigon/tg3.bin", "updates/tigon/tg3.bin.zst",
                "updates/tigon/tg3.bin.xz", "6.1.0-57-amd64/tigon/tg3.bin", "6.1.0-57-amd64/tigon/tg3.bin.zst",
                "6.1.0-57-amd64/tigon/tg3.bin.xz", "tigon/tg3.bin", "tigon/tg3.bin.zst", "tigon/tg3.bin.xz",
            ])
        #expect(FirmwareSelection.searchOrder(for: "x", kernelVersion: "").map(\.path).count == 6)
    }

    @Test func placementKeepsWhatTheKernelLoadsAndLinksDeclaredNames() {
        let debian = Support(kernelConfig: Self.debian61)
        // Plain file, found under its own name.
        #expect(
            FirmwareSelection.placement(
                declared: "tigon/tg3.bin", resolved: "tigon/tg3.bin", compression: nil, support: debian)
                == .init(file: "lib/firmware/tigon/tg3.bin", decompress: nil, link: nil))
        // Debian's ice.pkg link.
        #expect(
            FirmwareSelection.placement(
                declared: "intel/ice/ddp/ice.pkg", resolved: "intel/ice/ddp/ice-1.3.30.0.pkg", compression: nil,
                support: debian)
                == .init(
                    file: "lib/firmware/intel/ice/ddp/ice-1.3.30.0.pkg", decompress: nil,
                    link: "lib/firmware/intel/ice/ddp/ice.pkg"))
        // xz: loadable on 6.1, kept with its suffix; the link carries the suffix too.
        #expect(
            FirmwareSelection.placement(
                declared: "intel/ice/ddp/ice.pkg", resolved: "intel/ice/ddp/ice-1.3.30.0.pkg.xz", compression: .xz,
                support: debian)
                == .init(
                    file: "lib/firmware/intel/ice/ddp/ice-1.3.30.0.pkg.xz", decompress: nil,
                    link: "lib/firmware/intel/ice/ddp/ice.pkg.xz"))
        // zstd: not loadable on 6.1, decompressed under the declared name.
        #expect(
            FirmwareSelection.placement(
                declared: "rtl_nic/rtl8168h-2.fw", resolved: "rtl_nic/rtl8168h-2.fw.zst", compression: .zst,
                support: debian)
                == .init(file: "lib/firmware/rtl_nic/rtl8168h-2.fw", decompress: .zst, link: nil))
        #expect(
            FirmwareSelection.placement(
                declared: "a.fw", resolved: "a.fw.xz", compression: .xz, support: .unknown)
                == .init(file: "lib/firmware/a.fw", decompress: .xz, link: nil))
    }

    @Test(
        arguments: [
            ("rtl_nic/rtl8168g-2.fw", "rtl8168g-2-real.fw", "rtl_nic/rtl8168g-2-real.fw"),
            ("intel/ice/ddp/ice.pkg", "ice-1.3.30.0.pkg", "intel/ice/ddp/ice-1.3.30.0.pkg"),
            ("a/b/c.fw", "../d/./e.fw", "a/d/e.fw"),
            ("a/b.fw", "/lib/firmware/c/d.fw", "c/d.fw"),
            ("a/b.fw", "/usr/lib/firmware/c.fw", "c.fw"),
        ] as [(String, String, String)])
    func symlinkTargetsStayInTheDirectory(_ link: String, _ target: String, _ expected: String) {
        #expect(FirmwareCollector.nextPath(link: link, target: target) == expected)
    }

    @Test(arguments: [("a.fw", "../x"), ("a/b.fw", "../../etc/shadow"), ("a.fw", "/etc/shadow"), ("a.fw", ".")])
    func symlinksOutOfTheDirectoryAreRefused(_ link: String, _ target: String) {
        #expect(FirmwareCollector.nextPath(link: link, target: target) == nil)
    }

    @Test(arguments: [
        ("/lib/modules/6.1.0-57-amd64", "6.1.0-57-amd64", ""),
        ("/lib/modules/6.1.0-57-amd64/", "6.1.0-57-amd64", ""),
        ("build/kernel/root/lib/modules/6.1.0-57-amd64", "6.1.0-57-amd64", "build/kernel/root"),
        ("/srv/image/lib/modules/6.1.0-57-amd64", "6.1.0-57-amd64", "/srv/image"),
        ("lib/modules/6.1.0-57-amd64", "6.1.0-57-amd64", "."),
    ])
    func imageRootOfAModulesDirectory(_ directory: String, _ version: String, _ root: String) {
        #expect(InitramfsBuilder.imageRoot(modulesDirectory: directory, kernelVersion: version) == root)
    }

    @Test func modulesOutsideAnImageRootHaveNone() {
        #expect(InitramfsBuilder.imageRoot(modulesDirectory: "/opt/kernel-modules", kernelVersion: "6.1") == nil)
    }

    @Test func reportLines() {
        var report = FirmwareReport()
        report.directories = ["/lib/firmware"]
        report.support = Support(kernelConfig: Self.debian61)
        report.modules = [
            .init(
                name: "r8169",
                firmware: [
                    .init(
                        name: "rtl_nic/rtl8168h-2.fw",
                        outcome: .packed(archivePath: "lib/firmware/rtl_nic/rtl8168h-2.fw", bytes: 976, note: nil)),
                    .init(name: "rtl_nic/rtl8125b-2.fw", outcome: .missing),
                ]),
            .init(
                name: "tg3",
                firmware: [
                    .init(
                        name: "tigon/tg3.bin",
                        outcome: .packed(archivePath: "lib/firmware/tigon/tg3.bin", bytes: 2668, note: "from /x"))
                ]),
        ]
        report.unreadable = [("fake", "not an ELF file (no kernel module)")]
        #expect(
            report.lines(verbose: false) == [
                "initramfs: firmware: 3 files declared by 2 modules, 2 found (3644 bytes), 1 missing (from /lib/firmware; the kernel loads xz firmware as is)",
                "initramfs: firmware missing for: r8169 (1 of 2)",
                "initramfs: firmware of fake unknown: not an ELF file (no kernel module)",
            ])
        let verbose = report.lines(verbose: true)
        #expect(verbose.count == 6)
        #expect(verbose.contains("initramfs: firmware: r8169: rtl_nic/rtl8125b-2.fw: MISSING"))
        #expect(
            verbose.contains(
                "initramfs: firmware: tg3: tigon/tg3.bin: packed as lib/firmware/tigon/tg3.bin, 2668 bytes (from /x)"))
        report.disabled = true
        #expect(
            report.lines(verbose: true) == ["initramfs: firmware: none packed (--without-firmware); 3 files declared"])
    }
}
