import Testing

@testable import BootConfig

/// Issue 15: the read-only image root is mounted for an image that does not change under a booted node (NFSv3 first,
/// `nocto`, 30-day attribute cache), the user's options and `nodeinit.*` keys always win, and the other NFS mounts
/// (STATEMNT, litetree) keep the kernel's live caching.
@Suite struct RootCacheTests {
    static func rootAttempts(_ line: String) throws -> [String] {
        try BootPlanner.plan(BootInputs(commandLine: KernelCommandLine(line))).root.attempts.map(\.options)
    }

    @Test func defaultsAreNFSv3FirstWithTheImageCache() throws {
        let plan = try BootPlanner.plan(
            BootInputs(commandLine: KernelCommandLine("root=nfs:10.0.0.1:/srv/img ip=dhcp")))
        #expect(plan.root.versions == ["3", "4.2", "4.1"])
        #expect(
            plan.root.attempts.map(\.options) == [
                "vers=3,ro,nolock,nocto,actimeo=2592000", "vers=4.2,ro,nocto,actimeo=2592000",
                "vers=4.1,ro,nocto,actimeo=2592000",
            ])
        // v3 first: its module is planned; v4's too, for the fallback.
        #expect(plan.modules.load.contains { $0.name == "nfsv3" } && plan.modules.load.contains { $0.name == "nfsv4" })
    }

    /// 30 days: the kernel multiplies the seconds by HZ in 32 bits, which must not wrap up to HZ=1000.
    @Test func theCacheTimeFitsTheKernelsJiffies() {
        #expect(NFSMountOptions.imageCacheSeconds == 30 * 86_400)
        #expect(UInt64(NFSMountOptions.imageCacheSeconds) * 1000 < UInt64(UInt32.max))
        #expect(UInt64(157_680_000) * 250 > UInt64(UInt32.max), "WalT's five years wrap at HZ=250")
    }

    @Test(
        arguments: [
            // The kernel's own caching, the versions tried before issue 15 (what `make bench-boot` calls "before").
            (
                "root=nfs:10.0.0.1:/img nodeinit.nfs.rootcache=live nodeinit.nfs.versions=4.2,4.1,3",
                ["vers=4.2,ro", "vers=4.1,ro", "vers=3,ro,nolock"]
            ),
            ("root=nfs:10.0.0.1:/img nodeinit.nfs.rootcache=live", ["vers=3,ro,nolock", "vers=4.2,ro", "vers=4.1,ro"]),
            // The last one given wins, as for every nodeinit.* key.
            (
                "root=nfs:10.0.0.1:/img nodeinit.nfs.rootcache=live nodeinit.nfs.rootcache=image nodeinit.nfs.versions=4.2",
                ["vers=4.2,ro,nocto,actimeo=2592000"]
            ),
            ("root=nfs4:10.0.0.1:/img nodeinit.nfs.rootcache=live", ["vers=4.2,ro", "vers=4.1,ro", "vers=4.0,ro"]),
            ("NFSROOT=10.0.0.1:/install/netboot/rhels9/x86_64/compute", defaultRootAttempts),
            (
                "root=/dev/nfs nfsroot=10.0.0.1:/export,vers=4.2 nodeinit.nfs.rootcache=live",
                ["vers=4.2,ro"]
            ),
        ] as [(String, [String])])
    func nodeinitKeysChoose(line: String, attempts: [String]) throws {
        #expect(try Self.rootAttempts(line) == attempts)
    }

    @Test(
        arguments: [
            // WalT's own command lines (walt-images: rpi64-debian cmdline-nfs4.txt, the iPXE NFSv3 script): their
            // nocto and five-year ac* times are kept as given, nothing added.
            (
                "console=tty1 console=serial0,115200 boot=walt root=/dev/nfs4 nfsroot=10.0.0.1:/var/lib/walt/nodes/%s/fs,ro,nocto,acregmin=157680000,acregmax=157680000,acdirmin=157680000,acdirmax=157680000 init=/bin/walt-init panic=15 net.ifnames=0 biosdevname=0",
                [
                    "vers=4.2,ro,nocto,acregmin=157680000,acregmax=157680000,acdirmin=157680000,acdirmax=157680000",
                    "vers=4.1,ro,nocto,acregmin=157680000,acregmax=157680000,acdirmin=157680000,acdirmax=157680000",
                    "vers=4.0,ro,nocto,acregmin=157680000,acregmax=157680000,acdirmin=157680000,acdirmax=157680000",
                ]
            ),
            (
                "root=/dev/nfs boot=walt rootfstype=walt nfsroot=10.0.0.1:/var/lib/walt/nodes/52:54:00:12:34:56/fs,ro,vers=3,nolock,nocto,acregmin=157680000,acregmax=157680000,acdirmin=157680000,acdirmax=157680000",
                [
                    "vers=3,ro,nolock,nocto,acregmin=157680000,acregmax=157680000,acdirmin=157680000,acdirmax=157680000"
                ]
            ),
            // WalT's coral-dev-board U-Boot script sets the ac* times but not nocto: nocto is still nodeinit's.
            (
                "root=/dev/nfs nfsroot=10.0.0.1:/var/lib/walt/nodes/10.0.0.5/fs,v3,acregmin=157680000,acregmax=157680000,acdirmin=157680000,acdirmax=157680000",
                [
                    "vers=3,ro,nolock,nocto,acregmin=157680000,acregmax=157680000,acdirmin=157680000,acdirmax=157680000"
                ]
            ),
            // Any attribute-cache option of the user's replaces nodeinit's actimeo=; cto/nocto replaces its nocto.
            ("root=nfs:10.0.0.1:/img:vers=3,actimeo=1", ["vers=3,ro,nolock,nocto,actimeo=1"]),
            ("root=nfs:10.0.0.1:/img:vers=3,acdirmin=5", ["vers=3,ro,nolock,nocto,acdirmin=5"]),
            ("root=nfs:10.0.0.1:/img:vers=3,noac", ["vers=3,ro,nolock,nocto,noac"]),
            ("root=nfs:10.0.0.1:/img:vers=3,ac", ["vers=3,ro,nolock,nocto,ac"]),
            ("root=nfs:10.0.0.1:/img:vers=4.2,cto", ["vers=4.2,ro,actimeo=2592000,cto"]),
            ("root=nfs:10.0.0.1:/img:vers=4.2,cto,noac", ["vers=4.2,ro,cto,noac"]),
            (
                "root=/dev/nfs nfsroot=10.0.0.1:/export,vers=3,nocto,lookupcache=positive",
                ["vers=3,ro,nolock,actimeo=2592000,nocto,lookupcache=positive"]
            ),
            // rootcache=live and the user's own nocto: the user's alone.
            ("root=nfs:10.0.0.1:/img:vers=3,nocto nodeinit.nfs.rootcache=live", ["vers=3,ro,nolock,nocto"]),
            // The user's version wins over the root default's NFSv3 first.
            ("root=nfs:10.0.0.1:/img:vers=4.2", ["vers=4.2,ro,nocto,actimeo=2592000"]),
            ("root=nfs:10.0.0.1:/img:v4.1,rsize=65536", ["vers=4.1,ro,nocto,actimeo=2592000,rsize=65536"]),
        ] as [(String, [String])])
    func theUsersOptionsWin(line: String, attempts: [String]) throws {
        #expect(try Self.rootAttempts(line) == attempts)
    }

    @Test func stateliteMountsKeepLiveCaching() throws {
        // ro litefile entries come from litetree mounts: an edit on the server must reach booted nodes, so those
        // mounts (and the read-write STATEMNT) get neither nocto nor a long attribute cache, nor v3 first.
        let plan = try BootPlanner.plan(
            BootInputs(
                commandLine: KernelCommandLine(
                    "NFSROOT=10.0.0.1:/install/netboot/rhels9/x86_64/compute NODE=cn1 STATEMNT=10.0.0.1:/statelite"),
                litefile: BootInputs.Table(name: "litefile", text: "ALL,/etc/motd,ro,,\n"),
                litetree: BootInputs.Table(
                    name: "litetree",
                    text: "1,,\"10.0.0.2:/trees/ro\",,,\n2,,\"10.0.0.2:/trees/cached\",\"vers=3,actimeo=1\",,\n")))
        #expect(plan.root.attempts.map(\.options) == defaultRootAttempts)
        let trees = plan.statelite.treeMounts.map { $0.attempts.map(\.options) }
        #expect(trees == [["vers=4.2,ro", "vers=4.1,ro", "vers=3,ro,nolock"], ["vers=3,ro,nolock,actimeo=1"]])
        #expect(plan.statelite.statemnt?.attempts.allSatisfy { !$0.options.contains("nocto") } == true)
        #expect(plan.statelite.statemnt?.attempts.allSatisfy { !$0.options.contains("actimeo") } == true)
    }

    /// A litetree on the root's own server and export, over the root's own NFSv3: the tree still gets the kernel's
    /// caching (its options differ from the root's, so the kernel gives it a superblock of its own instead of
    /// sharing the root's cached one), and the `ro` entry is bound from that tree, never from the cached image.
    @Test func aTreeBesideTheImageRootStaysLive() throws {
        let plan = try BootPlanner.plan(
            BootInputs(
                commandLine: KernelCommandLine(
                    "root=nfs:10.0.0.1:/install/netboot/rhels9/x86_64/compute/rootimg ip=dhcp NODE=cn1 "
                        + "nodeinit.nfs.rootcache=image"),
                litefile: BootInputs.Table(
                    name: "litefile", text: "ALL,/etc/motd,ro,,\nALL,/etc/ssh/,persistent,,\nALL,/etc/issue,,,\n"),
                litetree: BootInputs.Table(
                    name: "litetree",
                    text: "1,,\"10.0.0.1:/install/netboot/rhels9/x86_64/compute\",\"vers=3\",,\n")))
        #expect(plan.root.attempts.first?.options == "vers=3,ro,nolock,nocto,actimeo=2592000")
        #expect(plan.statelite.treeMounts.map { $0.attempts.map(\.options) } == [["vers=3,ro,nolock"]])
        let motd = plan.statelite.entries.first { $0.path == "/etc/motd" }
        #expect(motd?.option == .readOnly)
        #expect(motd?.sources.first == "/.statelite/mnt/10.0.0.1/install/netboot/rhels9/x86_64/compute/etc/motd")
        // Only the root's attempts carry the image cache options.
        let every = plan.root.attempts + plan.statelite.treeMounts.flatMap(\.attempts)
        let cached = every.filter { $0.options.contains("nocto") || $0.options.contains("actimeo") }
        #expect(cached == plan.root.attempts)
    }

    @Test(arguments: ["forever", "", "IMAGE", "nocto"])
    func unknownCacheModesAreRefused(_ value: String) {
        let error = #expect(throws: ParameterError.self) {
            try BootPlanner.plan(
                BootInputs(commandLine: KernelCommandLine("root=nfs:10.0.0.1:/img nodeinit.nfs.rootcache=\(value)")))
        }
        #expect(error.map { "\($0)" }?.contains("nodeinit.nfs.rootcache") == true)
        #expect(error.map { "\($0)" }?.contains("expected image") == true)
    }

    /// The image root's readahead: 1 MiB (one largest READ per fault) unless the site chooses; `live` keeps the
    /// kernel's, as it keeps the kernel's caching.
    @Test(
        arguments: [
            ("root=nfs:10.0.0.1:/img ip=dhcp", 512),
            ("root=/dev/nfs nfsroot=10.0.0.1:/var/lib/walt/nodes/%s/fs,ro,nocto boot=walt init=/bin/walt-init", 512),
            ("NFSROOT=10.0.0.1:/install/netboot/rhels9/x86_64/compute NODE=cn1 STATEMNT=10.0.0.1:/statelite", 512),
            ("root=nfs:10.0.0.1:/img nodeinit.nfs.rootcache=live", nil),
            ("root=nfs:10.0.0.1:/img nodeinit.nfs.rootcache=live nodeinit.nfs.readahead=512", 512),
            ("root=nfs:10.0.0.1:/img nodeinit.nfs.readahead=kernel", nil),
            ("root=nfs:10.0.0.1:/img nodeinit.nfs.readahead=0", 0),
            ("root=nfs:10.0.0.1:/img nodeinit.nfs.readahead=4096 nodeinit.nfs.readahead=16384", 16384),
        ] as [(String, Int?)])
    func readaheadOfTheRoot(line: String, kibibytes: Int?) throws {
        #expect(try BootPlanner.plan(BootInputs(commandLine: KernelCommandLine(line))).root.readaheadKiB == kibibytes)
    }

    @Test(arguments: ["", "1M", "-1", "1048577", "99999999999999999999", "Kernel", "1024k"])
    func badReadaheadsAreRefused(_ value: String) {
        let error = #expect(throws: ParameterError.self) {
            try BootPlanner.plan(
                BootInputs(commandLine: KernelCommandLine("root=nfs:10.0.0.1:/img nodeinit.nfs.readahead=\(value)")))
        }
        #expect(error.map { "\($0)" }?.contains("nodeinit.nfs.readahead") == true)
        #expect(error.map { "\($0)" }?.contains("in KiB") == true)
    }
}
