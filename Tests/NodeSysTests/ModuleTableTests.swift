import Glibc
import Logging
import SystemPackage
import Testing

@testable import NodeSys

/// Lines from Debian 12's modules.alias and modules.dep (6.1.0-57-amd64), in their files' order.
private let debianAliases = """
    alias crypto-aes aesni_intel
    alias cpu:type:x86,ven*fam*mod*:feature:*0099* aesni_intel
    alias pci:v00001AF4d*sv*sd*bc*sc*i* virtio_pci
    alias virtio:d00000005v* virtio_balloon
    alias virtio:d00000002v* virtio_blk
    alias scsi:t-0x04* sr_mod
    alias scsi:t-0x05* sr_mod
    alias block-major-11-* sr_mod
    alias pci:v00008086d0000100Esv*sd*bc*sc*i* e1000
    alias pci:v00008086d000010D3sv*sd*bc*sc*i* e1000e
    alias virtio:d00000001v* virtio_net
    alias usb:v07C9p000Ed*dc*dsc*dp*icFFiscFFip00in* ax88179_178a
    alias usb:v0B95p1790d*dc*dsc*dp*icFFiscFFip00in* ax88179_178a
    alias usb:v12D1p*d*dc*dsc*dp*ic02isc06ipFFin* cdc_ether
    alias usb:v*p*d*dc*dsc*dp*ic02isc06ip00in* cdc_ether
    alias pci:v*d*sv*sd*bc0Csc03i30* xhci_pci
    alias pci:v*d*sv*sd*bc01sc06i01* ahci
    alias pci:v00008086d00007111sv*sd*bc*sc*i* ata_piix
    alias pci:v00008086d00007111sv000015ADsd00001976bc*sc*i* ata_piix
    alias pci:v00008086d00007010sv*sd*bc*sc*i* ata_piix
    alias pci:v*d*sv*sd*bc01sc01i* ata_generic
    alias pci:v00008086d*sv*sd*bc01sc01i* ata_generic
    alias usb:v*p*d*dc*dsc*dp*ic03isc*ip*in* usbhid
    alias fs-nfs4 nfs
    alias nfs4 nfs
    alias fs-overlay overlay
    alias pci:v00001234d00001111sv00001AF4sd00001100bc*sc*i* bochs
    alias pci:v0000ABCDd*sv*sd*bc*sc*i* notshipped
    """

private let debianDependencies = """
    kernel/fs/nfs_common/grace.ko:
    kernel/fs/netfs/netfs.ko:
    kernel/fs/fscache/fscache.ko: kernel/fs/netfs/netfs.ko
    kernel/net/sunrpc/sunrpc.ko:
    kernel/fs/lockd/lockd.ko: kernel/fs/nfs_common/grace.ko kernel/net/sunrpc/sunrpc.ko
    kernel/fs/nfs/nfs.ko: kernel/fs/lockd/lockd.ko kernel/fs/nfs_common/grace.ko kernel/net/sunrpc/sunrpc.ko kernel/fs/fscache/fscache.ko kernel/fs/netfs/netfs.ko
    kernel/fs/nfs/nfsv4.ko: kernel/net/dns_resolver/dns_resolver.ko kernel/fs/nfs/nfs.ko kernel/fs/lockd/lockd.ko kernel/fs/nfs_common/grace.ko kernel/net/sunrpc/sunrpc.ko kernel/fs/fscache/fscache.ko kernel/fs/netfs/netfs.ko
    kernel/net/dns_resolver/dns_resolver.ko:
    kernel/fs/overlayfs/overlay.ko:
    kernel/drivers/virtio/virtio_ring.ko:
    kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko
    kernel/drivers/virtio/virtio_pci_modern_dev.ko:
    kernel/drivers/virtio/virtio_pci_legacy_dev.ko:
    kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_legacy_dev.ko kernel/drivers/virtio/virtio_pci_modern_dev.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
    kernel/net/core/failover.ko:
    kernel/drivers/net/net_failover.ko: kernel/net/core/failover.ko
    kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
    kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
    kernel/drivers/net/ethernet/intel/e1000/e1000.ko:
    kernel/drivers/net/ethernet/intel/e1000e/e1000e.ko:
    kernel/drivers/scsi/scsi_common.ko:
    kernel/drivers/scsi/scsi_mod.ko: kernel/drivers/scsi/scsi_common.ko
    kernel/drivers/cdrom/cdrom.ko:
    kernel/drivers/scsi/sr_mod.ko: kernel/drivers/scsi/scsi_mod.ko kernel/drivers/scsi/scsi_common.ko kernel/drivers/cdrom/cdrom.ko
    kernel/drivers/ata/libata.ko: kernel/drivers/scsi/scsi_mod.ko kernel/drivers/scsi/scsi_common.ko
    kernel/drivers/ata/ata_piix.ko: kernel/drivers/ata/libata.ko kernel/drivers/scsi/scsi_mod.ko kernel/drivers/scsi/scsi_common.ko
    kernel/drivers/ata/ata_generic.ko: kernel/drivers/ata/libata.ko kernel/drivers/scsi/scsi_mod.ko kernel/drivers/scsi/scsi_common.ko
    kernel/drivers/ata/libahci.ko: kernel/drivers/ata/libata.ko kernel/drivers/scsi/scsi_mod.ko kernel/drivers/scsi/scsi_common.ko
    kernel/drivers/ata/ahci.ko: kernel/drivers/ata/libahci.ko kernel/drivers/ata/libata.ko kernel/drivers/scsi/scsi_mod.ko kernel/drivers/scsi/scsi_common.ko
    kernel/drivers/usb/common/usb-common.ko:
    kernel/drivers/usb/core/usbcore.ko: kernel/drivers/usb/common/usb-common.ko
    kernel/drivers/usb/host/xhci-hcd.ko: kernel/drivers/usb/core/usbcore.ko kernel/drivers/usb/common/usb-common.ko
    kernel/drivers/usb/host/xhci-pci.ko: kernel/drivers/usb/host/xhci-hcd.ko kernel/drivers/usb/core/usbcore.ko kernel/drivers/usb/common/usb-common.ko
    kernel/drivers/net/mii.ko:
    kernel/drivers/net/usb/usbnet.ko: kernel/drivers/net/mii.ko kernel/drivers/usb/core/usbcore.ko kernel/drivers/usb/common/usb-common.ko
    kernel/drivers/net/usb/ax88179_178a.ko: kernel/drivers/net/usb/usbnet.ko kernel/drivers/net/mii.ko kernel/drivers/usb/core/usbcore.ko kernel/drivers/usb/common/usb-common.ko
    kernel/drivers/net/usb/cdc_ether.ko: kernel/drivers/net/usb/usbnet.ko kernel/drivers/net/mii.ko kernel/drivers/usb/core/usbcore.ko kernel/drivers/usb/common/usb-common.ko
    kernel/drivers/hid/hid.ko:
    kernel/drivers/hid/usbhid/usbhid.ko: kernel/drivers/hid/hid.ko kernel/drivers/usb/core/usbcore.ko kernel/drivers/usb/common/usb-common.ko
    kernel/arch/x86/crypto/aesni-intel.ko:
    kernel/drivers/gpu/drm/tiny/bochs.ko:
    """

/// Lines from the same kernel's modules.builtin.
private let debianBuiltin = """
    kernel/arch/x86/events/amd/amd-uncore.ko
    kernel/mm/zswap.ko
    kernel/drivers/block/loop.ko
    """

/// Device modaliases as /sys/bus/*/devices/*/modalias shows them (QEMU's PC and a few real cards).
private let deviceModaliases = [
    "pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00",  // QEMU virtio-net-pci
    "pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00",  // QEMU virtio-blk-pci
    "pci:v00008086d0000100Esv00001AF4sd00001100bc02sc00i00",  // QEMU e1000
    "pci:v00008086d00007010sv00001AF4sd00001100bc01sc01i80",  // QEMU PIIX3 IDE: ata_piix, then ata_generic
    "pci:v00008086d00007111sv000015ADsd00001976bc01sc01i8A",  // VMware PIIX4 IDE: two ata_piix patterns
    "pci:v00008086d00002922sv00001AF4sd00001100bc01sc06i01",  // QEMU ICH9 AHCI
    "pci:v00008086d000010D3sv00008086sd0000A01Fbc02sc00i00",  // 82574L
    "pci:v00001B36d0000000Dsv00001AF4sd00001100bc0Csc03i30",  // QEMU qemu-xhci
    "pci:v00001234d00001111sv00001AF4sd00001100bc03sc00i00",  // QEMU std VGA
    "pci:v00008086d00007000sv00000000sd00000000bc06sc01i00",  // PIIX3 ISA bridge: no driver
    "virtio:d00000001v00001AF4", "virtio:d00000002v00001AF4", "virtio:d00000005v00001AF4",
    "usb:v0B95p1790d0100dc00dsc00dp00icFFiscFFip00in00",  // ASIX AX88179
    "usb:v12D1p1506d0102dcEFdsc02dp01ic02isc06ipFFin00",  // a Huawei CDC ethernet function
    "usb:v0627p0001d0000dc00dsc00dp00ic03isc01ip02in00",  // QEMU usb-tablet
    "scsi:t-0x05", "scsi:t-0x00",
    "cpu:type:x86,ven0000fam0006mod003F:feature:,0000,0001,0002,0099,00E5",
    "acpi:PNP0A03:", "",
]

@Suite struct ModuleTableTests {
    let aliases = ModuleAliases(parsing: debianAliases)
    let dependencies = ModuleDependencies(parsing: debianDependencies)
    let builtin = KernelModuleLists.builtin(parsing: debianBuiltin)

    var table: ModuleTable {
        ModuleTable(
            dependencies: dependencies, aliases: aliases, builtin: builtin, kernelRelease: "6.1.0-57-amd64",
            sources: ModuleTable.Sources(
                dependencies: Array(debianDependencies.utf8), aliases: Array(debianAliases.utf8),
                builtin: Array(debianBuiltin.utf8)))
    }

    /// The table finds exactly what the linear scan of modules.alias finds, in the same order, except modules the
    /// index does not ship.
    @Test(arguments: deviceModaliases)
    func matchesAsTheLinearScanDoes(modalias: String) {
        let shipped = aliases.modules(matching: modalias).filter { dependencies.entry($0) != nil }
        #expect(table.modules(matching: modalias) == shipped)
    }

    @Test func theDevicesOfAQEMUMachineFindTheirDrivers() {
        #expect(table.modules(matching: deviceModaliases[0]) == ["virtio_pci"])
        #expect(table.modules(matching: deviceModaliases[3]) == ["ata_piix", "ata_generic"])
        // VMware's PIIX4: two ata_piix patterns (one module once), and Intel's generic IDE pattern.
        #expect(table.modules(matching: deviceModaliases[4]) == ["ata_piix", "ata_generic"])
        #expect(table.modules(matching: "virtio:d00000001v00001AF4") == ["virtio_net"])
        #expect(table.modules(matching: "usb:v12D1p1506d0102dcEFdsc02dp01ic02isc06ipFFin00") == ["cdc_ether"])
        #expect(table.modules(matching: "scsi:t-0x05") == ["sr_mod"])
        #expect(table.modules(matching: "pci:v0000ABCDd00000001sv00000000sd00000000bc02sc00i00").isEmpty)
        #expect(table.modules(matching: "fs-nfs4") == ["nfs"])
    }

    @Test func theTextReadsBackToTheSameTable() throws {
        let original = table
        let read = try ModuleTable(parsing: Array(original.text.utf8))
        #expect(read == original)
        #expect(read.text == original.text)
        for modalias in deviceModaliases {
            #expect(read.modules(matching: modalias) == original.modules(matching: modalias))
        }
        #expect(original.text.hasPrefix("nodeinit-module-table 1\nkernel 6.1.0-57-amd64\nsource "))
    }

    /// Each module's line lists its dependencies in load order; the load order is the one modules.dep gives.
    @Test(arguments: [
        (["nfsv4"], [] as [String], ["dns_resolver", "grace", "sunrpc", "lockd", "netfs", "fscache", "nfs", "nfsv4"]),
        (
            ["nfs", "overlay", "nfsv4"], [],
            ["grace", "sunrpc", "lockd", "netfs", "fscache", "nfs", "overlay", "dns_resolver", "nfsv4"]
        ),
        (["nfsv4"], ["sunrpc", "grace", "lockd"], ["dns_resolver", "netfs", "fscache", "nfs", "nfsv4"]),
        (
            ["virtio_net", "ata_piix"], ["virtio", "virtio_ring"],
            ["failover", "net_failover", "virtio_net", "scsi_common", "scsi_mod", "libata", "ata_piix"]
        ),
        (["ax88179_178a"], [], ["mii", "usb_common", "usbcore", "usbnet", "ax88179_178a"]),
    ])
    func loadOrderPutsDependenciesFirst(requested: [String], skip: [String], expected: [String]) throws {
        let names = requested.map { ModuleName($0) }
        let skipping = Set(skip.map { ModuleName($0) })
        #expect(try table.loadOrder(for: names, skipping: skipping) == expected.map { ModuleName($0) })
        #expect(
            try table.loadOrder(for: names, skipping: skipping)
                == dependencies.loadOrder(for: names, skipping: skipping))
    }

    @Test func builtInAndUnknownModules() throws {
        #expect(table.builtin.contains("loop") && table.builtin.contains("amd_uncore"))
        #expect(try table.loadOrder(for: ["loop"], skipping: ["loop"]).isEmpty)
        #expect(throws: ModuleDependencies.Error.unknownModule("nosuch")) { try table.loadOrder(for: ["nosuch"]) }
        #expect(table.module("xhci_pci")?.path == "kernel/drivers/usb/host/xhci-pci.ko")
    }

    /// A cycle in a hand-edited modules.dep is kept for that module (the writer refuses it, the boot reports it).
    @Test func aDependencyCycleIsReportedForItsModules() {
        let cyclic = ModuleDependencies(parsing: "a.ko: b.ko\nb.ko: a.ko\nc.ko:\n")
        let table = ModuleTable(
            dependencies: cyclic, aliases: ModuleAliases(parsing: ""), builtin: [], kernelRelease: "x",
            sources: ModuleTable.Sources(dependencies: 1, aliases: 2, builtin: 3))
        #expect(table.unresolvable.keys.sorted() == ["a", "b"])
        #expect(throws: ModuleDependencies.Error.self) { try table.loadOrder(for: ["a"]) }
        #expect((try? table.loadOrder(for: ["c"])) == ["c"])
    }

    @Test(arguments: [
        ("", ModuleTable.Error.notATable),
        ("module a a.ko\n", .notATable),
        ("nodeinit-module-table 2\n", .unsupportedVersion("2")),
        (
            "nodeinit-module-table 1\nmodule a a.ko 0\n",
            .malformed(line: 2, "dependency 0 of a is not the index of another module (there are 1)")
        ),
        (
            "nodeinit-module-table 1\nmodule a a.ko 1\nmodule b b.ko 2\n",
            .malformed(line: 3, "dependency 2 of b is not the index of another module (there are 2)")
        ),
        ("nodeinit-module-table 1\nmodule a a.ko x\n", .malformed(line: 2, "dependency x is not a module index")),
        ("nodeinit-module-table 1\nmodule a a.ko\nmodule a b.ko\n", .malformed(line: 3, "module a listed twice")),
        (
            "nodeinit-module-table 1\nmodule a a.ko\nalias 0 pci:* 1\n",
            .malformed(line: 3, "alias names module index 1, but there are 1")
        ),
        (
            "nodeinit-module-table 1\nalias 0 pci:*\n",
            .malformed(line: 2, "alias takes an ordinal, a pattern and a module index")
        ),
        ("nodeinit-module-table 1\nsource 12 34 56\n", .malformed(line: 2, "source takes three 16-digit hex hashes")),
        ("nodeinit-module-table 1\nsoftdep a pre: b\n", .malformed(line: 2, "unknown record softdep")),
    ])
    func malformedTablesAreRefusedNamingTheLine(text: String, expected: ModuleTable.Error) {
        #expect(throws: expected) { try ModuleTable(parsing: Array(text.utf8)) }
    }

    @Test func fnv1aIsTheReferenceHash() {
        // FNV-1a 64 test vectors (Fowler, Noll, Vo): "" and "a", "foobar".
        #expect(ModuleTable.Sources.fnv1a([]) == 0xcbf2_9ce4_8422_2325)
        #expect(ModuleTable.Sources.fnv1a(Array("a".utf8)) == 0xaf63_dc4c_8601_ec8c)
        #expect(ModuleTable.Sources.fnv1a(Array("foobar".utf8)) == 0x8594_4171_f739_67e8)
        #expect(ModuleTable.hex(0x0123_4567_89ab_cdef) == "0123456789abcdef")
    }

    /// The loader uses the table only when it was computed from the files beside it; otherwise the text files.
    @Test func theLoaderFallsBackToTheTextFilesWhenTheTableIsMissingOrStale() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try FileContents.write(debianDependencies + "\n", to: directory.path + "/modules.dep")
        try FileContents.write(debianAliases + "\n", to: directory.path + "/modules.alias")
        try FileContents.write(debianBuiltin + "\n", to: directory.path + "/modules.builtin")
        let missing = try ModuleLoader(directory: directory.path)
        #expect(missing.indexSource == .text(reason: "no modules.nodeinit"))

        let sources = ModuleTable.Sources(
            dependencies: Array((debianDependencies + "\n").utf8), aliases: Array((debianAliases + "\n").utf8),
            builtin: Array((debianBuiltin + "\n").utf8))
        let written = ModuleTable(
            dependencies: dependencies, aliases: aliases, builtin: builtin, kernelRelease: "6.1.0-57-amd64",
            sources: sources)
        try FileContents.write(written.text, to: directory.path + "/modules.nodeinit")
        let fromTable = try ModuleLoader(directory: directory.path)
        #expect(fromTable.indexSource == .table)
        #expect(fromTable.table == written)
        #expect(
            fromTable.table.modules(matching: deviceModaliases[2])
                == missing.table.modules(matching: deviceModaliases[2]))

        // Someone ran depmod again (another module set): the table no longer describes modules.dep.
        try FileContents.write(debianDependencies + "\nkernel/extra/new.ko:\n", to: directory.path + "/modules.dep")
        let stale = try ModuleLoader(directory: directory.path)
        #expect(
            stale.indexSource
                == .text(
                    reason: directory.path
                        + "/modules.nodeinit was computed from other modules.dep, modules.alias or modules.builtin"))
        #expect(stale.table.module("new") != nil)

        try FileContents.write("nodeinit-module-table 9\n", to: directory.path + "/modules.nodeinit")
        let future = try ModuleLoader(directory: directory.path)
        #expect(
            future.indexSource
                == .text(
                    reason: directory.path
                        + "/modules.nodeinit: module table version 9 is not supported (this nodeinit reads version 1)"))
    }

    @Test(arguments: [
        ("pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00", false),  // virtio-net-pci: a NIC
        ("pci:v00008086d0000100Esv00001AF4sd00001100bc02sc00i00", false),  // e1000
        ("pci:v00008086d00007010sv00001AF4sd00001100bc01sc01i80", true),  // IDE
        ("pci:v00001B36d0000000Dsv00001AF4sd00001100bc0Csc03i30", true),  // xHCI
        ("pci:v00001234d00001111sv00001AF4sd00001100bc03sc00i00", true),  // VGA
        ("virtio:d00000001v00001AF4", false), ("virtio:d00000002v00001AF4", true), ("scsi:t-0x05", true),
        ("usb:v0B95p1790d0100dc00dsc00dp00icFFiscFFip00in00", false),  // a USB NIC looks like any USB device
        ("acpi:PNP0A03:", false), ("platform:some-nic", false), ("pci:v1234", false),
    ])
    func onlyDevicesKnownNotToBeNetworkCardsWaitForTheBackground(modalias: String, deferrable: Bool) {
        #expect(ModuleLoader.isDeferrable(modalias: modalias) == deferrable)
    }
}

/// A fresh directory under /tmp, removed with what it holds.
private struct TemporaryDirectory {
    let path: String

    init() throws {
        path = try PathOperations.makeUniqueDirectory(prefix: "/tmp/nodeinit-module-table-")
    }

    /// Removes the directory and everything in it.
    func removeTree() {
        _ = try? ChildCommand.run(["/bin/rm", "-rf", "--one-file-system", path])
    }

    /// Removes the index files the tests write, then the directory.
    func remove() {
        for name in ["modules.dep", "modules.alias", "modules.builtin", ModuleTable.fileName] {
            PathOperations.removeFile(path + "/" + name)
        }
        _ = rmdir(path)
    }
}

/// Background loads on a real thread over files that are not modules: finit_module(2) refuses each (ENOEXEC, or
/// EPERM without the capability), so every module is a failure, and the test follows who reports which.
@Suite struct BackgroundModuleLoadTests {
    let logger = Logger(label: "test")

    fileprivate func loader(_ directory: TemporaryDirectory, blacklist: Set<ModuleName> = []) throws -> ModuleLoader {
        let dependencies = ModuleDependencies(parsing: debianDependencies)
        for module in dependencies.entries.values {
            let path = directory.path + "/" + module.path
            try FileSystem.makeDirectory(String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]))
            try FileContents.write("not a module\n", to: path)
        }
        let table = ModuleTable(
            dependencies: dependencies, aliases: ModuleAliases(parsing: debianAliases),
            builtin: KernelModuleLists.builtin(parsing: debianBuiltin), kernelRelease: "6.1.0-57-amd64",
            sources: ModuleTable.Sources(dependencies: 0, aliases: 0, builtin: 0))
        return ModuleLoader(table: table, directory: directory.path, present: ["failover"], blacklist: blacklist)
    }

    /// The device drivers' background load waits for the named one (the NFS client) before it starts its work.
    @Test func aLaterLoadWaitsUntilTheEarlierHasFinished() throws {
        let first = try BackgroundModuleLoad(label: "NFS client", modules: ["nfs"], niceness: 0) { _ in
            Pause.sleep(milliseconds: 200)
            return ModuleLoader.Outcome()
        }
        let second = try BackgroundModuleLoad(label: "device drivers", modules: nil, niceness: 0) { _ in
            first.waitUntilFinished()
            #expect(first.isFinished)
            return ModuleLoader.Outcome()
        }
        let (_, secondReport) = second.wait()
        let (_, firstReport) = first.wait()
        #expect(secondReport.finished >= firstReport.finished)
    }

    /// switch_root asks the device drivers' load to stop: the work sees the request and returns.
    @Test func aStopRequestReachesTheWork() throws {
        let job = try BackgroundModuleLoad(label: "device drivers", modules: nil, niceness: 0) { stopRequested in
            var outcome = ModuleLoader.Outcome()
            // Bounded: a request that never arrives fails the test after 10 s instead of hanging it.
            for _ in 0..<2000 where !stopRequested() { Pause.sleep(milliseconds: 5) }
            if stopRequested() { outcome.loaded = ["stopped"] }
            return outcome
        }
        Pause.sleep(milliseconds: 20)
        #expect(!job.isFinished)
        job.requestStop()
        let (outcome, report) = job.wait()
        #expect(outcome.loaded == ["stopped"])
        #expect(report.modules == false)
    }

    /// A load told to stop returns before its next module: the two it tried are its whole outcome.
    @Test func aLoadStopsBeforeTheNextModule() throws {
        let directory = try TemporaryDirectory()
        defer { directory.removeTree() }
        var loader = try loader(directory)
        var asked = 0
        let outcome = loader.load(["nfsv4"], logger: logger) {
            asked += 1
            return asked > 2
        }
        #expect(outcome.failures.count == 2)
        #expect(outcome.loaded.isEmpty)
    }

    /// The process that outlives switch_root opens module files below the initramfs's root, not below "/": the
    /// same absolute paths resolve below the descriptor it is given.
    @Test func moduleFilesOpenBelowTheFilesRoot() throws {
        let directory = try TemporaryDirectory()
        defer { directory.removeTree() }
        let empty = try TemporaryDirectory()
        defer { empty.removeTree() }
        var found = try loader(directory)
        let root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        defer { close(root) }
        found.filesRoot = FileDescriptor(rawValue: root)
        let opened = found.load(["overlay"], logger: logger)
        guard case .finit = opened.failures.first else {
            Issue.record("expected finit_module to refuse the file, got \(opened.failures)")
            return
        }

        var elsewhere = try loader(directory)
        let other = open(empty.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        defer { close(other) }
        elsewhere.filesRoot = FileDescriptor(rawValue: other)
        let missing = elsewhere.load(["overlay"], logger: logger)
        #expect(
            missing.failures.first
                == .open(
                    module: "overlay", path: directory.path + "/kernel/fs/overlayfs/overlay.ko", .noSuchFileOrDirectory)
        )
    }

    /// Without device drivers left to the background there is nothing to hand on at switch_root.
    @Test func switchRootHandsOnNothingWhenNoDeviceLoadRan() throws {
        let directory = try TemporaryDirectory()
        defer { directory.removeTree() }
        var loader = try loader(directory)
        _ = loader.loadInBackground(["overlay"], label: "overlay", logger: logger)
        let (outcome, successor) = loader.settleForSwitchRoot(logger: logger)
        #expect(outcome.failures.compactMap(\.module) == ["overlay"])
        #expect(successor == nil)
    }

    @Test func theLoadThatNeedsAModuleGetsWhatTheBackgroundDidForIt() throws {
        let directory = try TemporaryDirectory()
        defer { directory.removeTree() }
        var loader = try loader(directory)
        let started = loader.loadInBackground(["nfsv4", "overlay"], label: "NFS client", logger: logger)
        #expect(started.loaded.isEmpty && started.failures.isEmpty)

        let root = loader.load(["nfsv4"], logger: logger)
        let nfsv4Closure: Set<ModuleName> = [
            "dns_resolver", "grace", "sunrpc", "lockd", "netfs", "fscache", "nfs", "nfsv4",
        ]
        #expect(root.loaded.isEmpty)
        #expect(root.failures.compactMap(\.module).count == nfsv4Closure.count)
        #expect(Set(root.failures.compactMap(\.module)) == nfsv4Closure)
        // Failed in the background and reported once: not tried again.
        let again = loader.load(["nfs"], logger: logger)
        #expect(again.failures.isEmpty && again.loaded.isEmpty)

        let rest = loader.settleAll(logger: logger)
        #expect(rest.failures.compactMap(\.module) == ["overlay"])
        let reports = loader.takeBackgroundReports()
        #expect(reports.count == 1)
        #expect(reports.first?.modules == true && reports.first?.failures == 9)
        #expect(reports.first.map { $0.started <= $0.finished } == true)
        #expect(loader.takeBackgroundReports().isEmpty)
        #expect(loader.settleAll(logger: logger).failures.isEmpty)
    }

    @Test func blacklistedBuiltInLoadedAndUnknownNamesStartNoThread() throws {
        let directory = try TemporaryDirectory()
        defer { directory.removeTree() }
        var loader = try loader(directory, blacklist: ["e1000"])
        let started = loader.loadInBackground(["e1000", "loop", "failover", "nosuch"], label: "x", logger: logger)
        #expect(started.failures == [.resolve(.unknownModule("nosuch"))])
        #expect(loader.settleAll(logger: logger).failures.isEmpty)
        #expect(loader.takeBackgroundReports().isEmpty)
    }

    /// A foreground load of modules the background does not have in hand does not wait for it.
    @Test func unrelatedLoadsDoNotClaimTheBackgroundsResults() throws {
        let directory = try TemporaryDirectory()
        defer { directory.removeTree() }
        var loader = try loader(directory)
        _ = loader.loadInBackground(["overlay"], label: "overlay", logger: logger)
        let nic = loader.load(["virtio_net"], logger: logger)
        #expect(Set(nic.failures.compactMap(\.module)) == ["net_failover", "virtio_ring", "virtio", "virtio_net"])
        #expect(loader.settleAll(logger: logger).failures.compactMap(\.module) == ["overlay"])
    }

    /// A table that describes the files (same hashes) but lacks a module modules.dep lists: the loader goes to the
    /// text indexes for it, and a name neither knows stays an unknown module.
    @Test func aModuleTheTableLacksIsFoundInTheTextIndexes() throws {
        let directory = try TemporaryDirectory()
        defer { directory.removeTree() }
        _ = try loader(directory)  // writes the module files
        let dependencyText = debianDependencies + "\n"
        try FileContents.write(dependencyText, to: directory.path + "/modules.dep")
        try FileContents.write(debianAliases + "\n", to: directory.path + "/modules.alias")
        try FileContents.write(debianBuiltin + "\n", to: directory.path + "/modules.builtin")
        let withoutOverlay = dependencyText.split(separator: "\n").filter { !$0.hasPrefix("kernel/fs/overlayfs/") }
            .joined(separator: "\n")
        let lacking = ModuleTable(
            dependencies: ModuleDependencies(parsing: withoutOverlay), aliases: ModuleAliases(parsing: debianAliases),
            builtin: KernelModuleLists.builtin(parsing: debianBuiltin), kernelRelease: "6.1.0-57-amd64",
            sources: ModuleTable.Sources(
                dependencies: Array(dependencyText.utf8), aliases: Array((debianAliases + "\n").utf8),
                builtin: Array((debianBuiltin + "\n").utf8)))
        #expect(lacking.module("overlay") == nil && lacking.module("nfs") != nil)
        try FileContents.write(lacking.text, to: directory.path + "/" + ModuleTable.fileName)

        var loader = try ModuleLoader(directory: directory.path)
        #expect(loader.indexSource == .table)
        let unknown = loader.load(["nosuch"], logger: logger)
        #expect(unknown.failures == [.resolve(.unknownModule("nosuch"))])
        #expect(loader.indexSource == .table)

        let overlay = loader.load(["overlay"], logger: logger)
        // Tried from the path modules.dep gives (and refused by the kernel: the file is not a module).
        #expect(overlay.failures.compactMap(\.module) == ["overlay"])
        #expect(loader.indexSource == .text(reason: "\(ModuleTable.fileName) lacks module overlay"))
        #expect(loader.table.module("overlay")?.path == "kernel/fs/overlayfs/overlay.ko")
    }
}
