import BootConfig
import Logging
import NodeNetwork
import NodeSys
import RuntimeLayout
import SystemPackage
import Testing

@testable import NodeBoot

/// Whole boot plans walked by `BootSequence` without a kernel: fakes for the network, the kernel and the storage
/// record every action in one ordered event list, so each test checks what the init would do and in which order.
final class BootEvents: @unchecked Sendable {  // one test thread writes it
    var lines: [String] = []
    func record(_ line: String) { lines.append(line) }

    /// The events that start with one of `prefixes`, in order.
    func only(_ prefixes: String...) -> [String] {
        lines.filter { line in prefixes.contains { line.hasPrefix($0) } }
    }
}

func testLease(
    hostName: String? = nil, rootPath: String? = nil, nextServer: String? = nil, serverIdentifier: String? = "10.0.2.2"
) -> BootLease {
    let boot = NetworkLease(
        source: .dhcp, interfaceName: "eth0", interfaceIndex: 2, macAddress: MACAddress("52:54:00:12:34:56"),
        address: IPv4Address("10.0.2.15") ?? .any, prefixLength: 24, gateway: IPv4Address("10.0.2.2"),
        dnsServers: [], hostName: hostName, rootPath: rootPath, nextServer: nextServer.flatMap { IPv4Address($0) },
        serverIdentifier: serverIdentifier.flatMap { IPv4Address($0) })
    return BootLease(boot: boot, nameservers: IPAddress("10.0.2.3").map { [$0] } ?? [], searchDomains: [])
}

struct FakeNetwork: BootNetwork {
    var events: BootEvents
    var lease: BootLease?
    var names: [String: String] = [:]

    func bringUp(plan: NetworkPlan, logger: Logger) throws(BootFailure) -> BootLease {
        events.record("network \(plan.interfaces.map(\.origin).joined(separator: " "))")
        guard let lease else {
            throw BootFailure(phase: .network, action: "bringing up the network", error: "no DHCP offer (fake)")
        }
        return lease
    }

    func resolve(host: String, nameservers: [IPAddress], searchDomains: [String], logger: Logger) throws(BootFailure)
        -> [IPAddress]
    {
        events.record("resolve \(host)")
        return names[host].flatMap { IPAddress($0) }.map { [$0] } ?? []
    }
}

final class FakeKernel: BootKernel {
    let events: BootEvents
    var files: [String: String] = [:]
    var agentUpper: String?
    var agentAllow: [String] = []
    /// The owner the fake NFS server's export root shows (4294967294: owners sent as names, no ID mapper).
    var nfsRootOwner: (uid: UInt32, gid: UInt32) = (0, 0)
    private var mounted: [String: String] = [:]
    /// How many of the next mounts fail (ETIMEDOUT), like an NFS server still starting.
    var failingMounts = 0
    init(_ events: BootEvents) { self.events = events }

    func reapExited() {}
    func isMountPoint(_ path: String) -> Bool { ["/proc", "/sys", "/dev", "/dev/pts", "/run"].contains(path) }
    func makeDirectory(_ path: String, mode: UInt32) throws(FileSystem.Error) {}
    func mount(_ mount: Mount) throws(Mount.Error) {
        events.record("mount \(mount.fileSystemType ?? "-") \(mount.source) on \(mount.target) -o \(mount.options)")
        if failingMounts > 0 {
            failingMounts -= 1
            throw .failed(mount: mount.description, reason: "Connection timed out", errno: .timedOut)
        }
        mounted[mount.target] = mount.fileSystemType
    }
    func unmount(_ path: String) throws(Errno) {
        events.record("unmount \(path)")
        mounted[path] = nil
    }
    func rootOwner(_ path: String) -> (uid: UInt32, gid: UInt32)? {
        mounted[path].map { $0.hasPrefix("nfs4") ? nfsRootOwner : (0, 0) }
    }
    func setHostName(_ name: String) throws(Errno) { events.record("hostname \(name)") }
    func writeFile(_ text: String, to path: String) throws(FileContents.Error) { files[path] = text }
    /// Loading in the background, not yet claimed by a load that needs them.
    private var pending: [ModuleName] = []
    /// What a module needs, as far as the walks care.
    private let dependencies: [ModuleName: [ModuleName]] = ["nfsv4": ["nfs"], "nfsv3": ["nfs"]]
    func loadModules(_ names: [ModuleName], plan: ModulePlan, logger: Logger) -> ModuleLoader.Outcome {
        events.record("modules \(names.map(\.rawValue).joined(separator: " "))")
        let needed = Set(names.flatMap { (dependencies[$0] ?? []) + [$0] })
        var outcome = ModuleLoader.Outcome()
        outcome.loaded = pending.filter { needed.contains($0) && !names.contains($0) } + names
        pending.removeAll { needed.contains($0) }
        return outcome
    }
    func loadModulesInBackground(_ names: [ModuleName], label: String, plan: ModulePlan, logger: Logger)
        -> ModuleLoader.Outcome
    {
        events.record("background \(names.map(\.rawValue).joined(separator: " "))")
        pending += names
        return ModuleLoader.Outcome()
    }
    func settleDeviceDrivers(plan: ModulePlan, logger: Logger) -> ModuleLoader.Outcome {
        events.record("settle device drivers")
        return ModuleLoader.Outcome()
    }
    func settleModulesBeforeSwitchRoot(plan: ModulePlan, logger: Logger) -> ModuleLoader.Outcome {
        if !pending.isEmpty { events.record("settle \(pending.map(\.rawValue).joined(separator: " "))") }
        var outcome = ModuleLoader.Outcome()
        outcome.loaded = pending
        pending = []
        return outcome
    }
    func takeBackgroundReports() -> [BackgroundModuleLoad.Report] { [] }
    func loadDriversForPresentDevices(plan: ModulePlan, logger: Logger) -> ModuleLoader.Outcome {
        events.record("drivers")
        return ModuleLoader.Outcome()
    }
    func shell(reason: String, logger: Logger) { events.record("shell \(reason)") }
    func startAgent(_ startup: AgentStartup, logger: Logger) throws(AgentStartup.Error) -> Int32 {
        agentUpper = startup.upperDirectory
        agentAllow = startup.allowList
        events.record("agent \(startup.port)")
        return 42
    }
    var shutdownAgentPID: Int32?
    func prepareShutdown(_ handover: ShutdownHandover, logger: Logger) throws(ShutdownHandover.Error) {
        shutdownAgentPID = handover.agentPID
        events.record("shutdown handover agent \(handover.agentPID.map(String.init) ?? "-")")
    }
    func validateNewRoot(_ switcher: SwitchRoot) throws(SwitchRoot.Error) {}
    func setReadahead(_ kibibytes: Int, ofMountAt path: String) throws(MountReadahead.Error) -> Int {
        events.record("readahead \(path) \(kibibytes)")
        return 128
    }
    func switchRoot(_ switcher: SwitchRoot, logger: Logger) throws(SwitchRoot.Error) {
        events.record("switch_root \(switcher.newRoot) \(switcher.initPath)")
    }
}

final class FakeStatelite: StateliteOperations {
    let events: BootEvents
    var summary = StateliteSummary()
    init(_ events: BootEvents) { self.events = events }
    func mountStateliteTmpfs() throws(StateliteError) { events.record("statelite tmpfs") }
    func warnNoPersistentStore(entries: [LitefileEntry]) throws(StateliteError) { events.record("statelite no store") }
    func mountStatemnt(_ statemnt: StatemntPlan, nodeName: String?, entries: [LitefileEntry]) throws(StateliteError) {
        events.record("statelite statemnt \(statemnt.server):\(statemnt.nodePath) node \(nodeName ?? "-")")
    }
    func mountLocalDisk(_ disk: LocalDiskPlan) throws(StateliteError) { events.record("statelite localdisk") }
    func mountLitetree(_ tree: LitetreeMount) throws(StateliteError) {
        events.record("statelite litetree \(tree.server ?? "image"):\(tree.directory)")
    }
    func applyLitefile(_ entry: LitefileEntry, in entries: [LitefileEntry]) throws(StateliteError) {
        summary.applied += 1
        events.record("statelite litefile \(entry.path) \(entry.option.rawValue)")
    }
    func linkMtab() throws(StateliteError) { events.record("statelite mtab") }
}

final class FakeStorage: BootStorage {
    let events: BootEvents
    var tables = StateliteTables.Loaded()
    var prepared: PersistentOverlay.Prepared?
    init(_ events: BootEvents) { self.events = events }

    func loadTables(
        _ locations: TableLocations, imageRoot: String, resolveHost: @escaping (String) -> String?, log: StateliteLog
    ) throws(StateliteError) -> StateliteTables.Loaded {
        events.record("tables from \(imageRoot)")
        return tables
    }
    func openStatelite(_ environment: StateliteSetup.Environment, log: StateliteLog) -> any StateliteOperations {
        events.record("statelite open \(environment.newRoot) upper \(environment.upperDir ?? "-")")
        return FakeStatelite(events)
    }
    /// What xcatd answers in a walk: the fetched tables, or the error it fails with.
    var xcatd: Result<XcatdTables.Fetched, StateliteError> = .failure(
        .xcatd(endpoint: "fake", problem: "no xcatd in this test", attempts: []))
    func fetchXcatdTables(
        _ plan: XcatdPlan, address: IPAddress, imageRoot: String, litefile: Bool, litetree: Bool, seed: UInt64,
        log: StateliteLog
    ) throws(StateliteError) -> XcatdTables.Fetched {
        events.record("xcatd \(address) port \(plan.port) litefile \(litefile) litetree \(litetree)")
        return try xcatd.get()
    }
    func prepareOverlayDevice(_ overlay: PersistentOverlay) throws(PersistentOverlayError) -> PersistentOverlay.Prepared
    {
        events.record("overlay device \(overlay.plan.device)")
        guard let prepared else {
            throw .deviceUnavailable(spec: overlay.plan.device.description, reason: "fake: no disk")
        }
        return prepared
    }
}

/// A boot with fakes: plans `commandLine`, walks it, returns the events, the kernel and the final context.
struct FakeBoot {
    let events = BootEvents()
    let kernel: FakeKernel
    let storage: FakeStorage
    var network: FakeNetwork

    init(lease: BootLease? = testLease()) {
        kernel = FakeKernel(events)
        storage = FakeStorage(events)
        network = FakeNetwork(events: events, lease: lease)
    }

    func walk(_ commandLine: String) throws(BootFailure) -> BootContext {
        let sequence = BootSequence(
            services: BootServices(
                network: network, kernel: kernel, storage: storage, logger: Logger(label: "test"),
                layout: RuntimeLayout(directory: "/run/nodeinit")))
        var context = try sequence.plan(commandLine: Array(commandLine.utf8))
        try sequence.walk(&context)
        return context
    }
}

@Suite struct BootWalkTests {
    @Test func dhcpBootWalksEveryStepInOrder() throws {
        var boot = FakeBoot(lease: testLease(hostName: "dhcp-node"))
        boot.network.lease?.nameservers = ["10.0.2.3", "10.0.2.3"].compactMap { IPAddress($0) }
        let context = try boot.walk("ip=dhcp root=nfs:10.0.2.2:/img rd.break=pre-mount")
        #expect(
            boot.events.lines == [
                "background nfs nfsv3 overlay", "drivers", "network ip=dhcp", "hostname dhcp-node",
                // The NFSv4 client identity is nfs's parameter: it waits for the background load of nfs.
                "modules nfs",
                "shell pause before-root-mount",
                "modules nfsv3",
                "mount nfs 10.0.2.2:/img on /run/nodeinit/lower -o vers=3,ro,nolock,nocto,actimeo=2592000,addr=10.0.2.2",
                "readahead /run/nodeinit/lower 512",
                "mount tmpfs tmpfs on /run/nodeinit/overlay -o mode=0755",
                "modules overlay",
                "mount overlay overlay on /sysroot -o lowerdir=/run/nodeinit/lower,upperdir=/run/nodeinit/overlay/upper,"
                    + "workdir=/run/nodeinit/overlay/work,redirect_dir=off,metacopy=off,index=off,xino=off",
                "tables from /run/nodeinit/lower", "agent 7070",
                "shutdown handover agent 42", "switch_root /sysroot /sbin/init",
            ])
        #expect(context.rootServer == IPAddress("10.0.2.2"))
        #expect(context.overlay?.mounted == true)
        #expect(boot.kernel.agentUpper == "/run/nodeinit/overlay/upper")
        #expect(boot.kernel.agentAllow == ["10.0.2.2"])
        #expect(boot.kernel.files["/run/resolv.conf"] == "# written by nodeinit\nnameserver 10.0.2.3\n")
        #expect(boot.kernel.files["/run/nodeinit/boot.json"]?.contains("\"outcome\":\"switch_root\"") == true)
        // nfs is claimed by the NFSv4 client identity, nfsv3 by the root mount, overlay by the overlay mount.
        #expect(context.loadedModules.map(\.rawValue) == ["nfs", "nfsv3", "overlay"])
        // A DHCP server without host names must not leave every node with the same NFSv4 client owner.
        #expect(boot.kernel.files["/sys/module/nfs/parameters/nfs4_unique_id"] == "nodeinit-525400123456")
    }

    /// ganesha's default: owners as names. With NFSv3 among the versions (v4.2 tried first here), the root falls back
    /// to NFSv3 at once; pinned, the boot stops.
    @Test func ownersSentAsNamesFallBackToNFSv3() throws {
        let boot = FakeBoot()
        boot.kernel.nfsRootOwner = (4_294_967_294, 4_294_967_294)
        _ = try boot.walk("ip=dhcp root=nfs:10.0.2.2:/img nodeinit.nfs.versions=4.2,4.1,3")
        let mounts = boot.events.lines.filter { $0.hasPrefix("mount nfs") || $0.hasPrefix("unmount") }
        #expect(
            mounts == [
                "mount nfs4 10.0.2.2:/img on /run/nodeinit/lower -o vers=4.2,ro,nocto,actimeo=2592000,addr=10.0.2.2",
                "unmount /run/nodeinit/lower",
                "mount nfs 10.0.2.2:/img on /run/nodeinit/lower -o vers=3,ro,nolock,nocto,actimeo=2592000,addr=10.0.2.2",
            ])

        let pinned = FakeBoot()
        pinned.kernel.nfsRootOwner = (4_294_967_294, 4_294_967_294)
        do {
            _ = try pinned.walk("ip=dhcp root=nfs4:10.0.2.2:/img")
            Issue.record("booted on unmapped owners")
        } catch {
            #expect(error.error.contains("Only_Numeric_Owners") && error.error.contains("vers=3"))
            #expect(error.attempts.contains { $0.contains("owned by 4294967294:4294967294") })
        }
    }

    /// nfs.nfs4_unique_id= is the admin's: the kernel passes it to the module, nodeinit writes nothing over it.
    @Test func theCommandLineClientIdentityIsLeftToTheKernel() throws {
        let boot = FakeBoot()
        let context = try boot.walk("ip=dhcp root=nfs:10.0.2.2:/img nfs.nfs4_unique_id=rack7-node12")
        #expect(context.plan.nfsClientIdentity == .commandLine("rack7-node12"))
        #expect(boot.kernel.files["/sys/module/nfs/parameters/nfs4_unique_id"] == nil)
    }

    /// walt-init builds the overlay: the walk mounts the NFS root on the new root, no overlay, and the agent is told
    /// to find walt-init's upper; nfsv3 loads early for walt-init's /persist beside an NFSv4 root.
    @Test func waltInitGetsTheReadOnlyRoot() throws {
        let boot = FakeBoot()
        let context = try boot.walk(
            "root=/dev/nfs4 boot=walt rootfstype=walt nfsroot=10.0.2.2:/var/lib/walt/nodes/52:54:00:12:34:56/fs,ro,nocto "
                + "walt.server.ip=10.0.2.2 init=/bin/walt-init "
                + "ip=10.0.2.15:10.0.2.2:10.0.2.2:255.255.255.0:walt-node-12::off BOOTIF=01-52-54-00-12-34-56")
        #expect(!boot.events.lines.contains { $0.hasPrefix("mount overlay") || $0.hasPrefix("mount tmpfs") })
        #expect(
            boot.events.lines.contains {
                $0.hasPrefix("mount nfs4 10.0.2.2:/var/lib/walt/nodes/") && $0.contains(" on /sysroot ")
            })
        #expect(boot.events.lines.last == "switch_root /sysroot /bin/walt-init")
        #expect(boot.events.lines.first == "background nfs nfsv4 overlay nfsv3")
        // No overlay step: walt-init's overlay and /persist modules are claimed when the background ends.
        #expect(context.loadedModules.map(\.rawValue) == ["nfs", "nfsv4", "overlay", "nfsv3"])
        #expect(boot.events.lines.contains("settle overlay nfsv3"))
        #expect(context.overlay == nil)
    }

    @Test func rootFromTheDHCPRootPathIsPlannedBeforeTheMount() throws {
        let boot = FakeBoot(lease: testLease(rootPath: "10.0.2.9:/srv/from-dhcp"))
        let context = try boot.walk("ip=dhcp root=dhcp")
        #expect(context.plan.root.server == "10.0.2.9")
        #expect(
            boot.events.only("mount nfs").first?.hasPrefix("mount nfs 10.0.2.9:/srv/from-dhcp on /run/nodeinit/lower")
                == true)
    }

    @Test func noDHCPRootPathStopsTheBootNamingTheOption() throws {
        let boot = FakeBoot(lease: testLease(rootPath: nil))
        #expect {
            _ = try boot.walk("ip=dhcp root=dhcp")
        } throws: { error in
            guard let failure = error as? BootFailure else { return false }
            return failure.phase == .planFromLease && failure.error.contains("option 17")
        }
        #expect(boot.events.only("mount").isEmpty)
    }

    /// root=/dev/nfs without nfsroot=: the lease's root-path (option 17) first, as fs/nfs/nfsroot.c and dracut's
    /// nfs-lib.sh read it (`[server:]path[,options]`).
    @Test func kernelNFSRootTakesTheLeaseRootPath() throws {
        let boot = FakeBoot(lease: testLease(rootPath: "10.0.2.9:/srv/nodes/%s,vers=3,nocto", nextServer: "10.0.2.4"))
        let context = try boot.walk("ip=dhcp root=/dev/nfs rd.overlay=0")
        #expect(context.plan.root.server == "10.0.2.9")
        #expect(context.plan.root.dhcpRootPath == "10.0.2.9:/srv/nodes/%s,vers=3,nocto")
        #expect(
            boot.events.only("mount nfs").first?.hasPrefix("mount nfs 10.0.2.9:/srv/nodes/10.0.2.15 on /sysroot")
                == true)
    }

    /// ... and the kernel's /tftpboot/%s from the next-server only when the lease has no root-path.
    @Test func kernelNFSRootFallsBackToTftpbootWithoutRootPath() throws {
        for rootPath in [nil, "", "  "] as [String?] {
            let boot = FakeBoot(lease: testLease(hostName: "cn7", rootPath: rootPath, nextServer: "10.0.2.4"))
            let context = try boot.walk("ip=dhcp root=/dev/nfs rd.overlay=0")
            #expect(context.plan.root.path == "/tftpboot/cn7")
            #expect(context.plan.root.dhcpRootPath == "")
            #expect(
                boot.events.only("mount nfs").first?.hasPrefix("mount nfs 10.0.2.4:/tftpboot/cn7 on /sysroot") == true,
                "\(boot.events.only("mount nfs"))")
        }
    }

    @Test func theLeaseHostNameFillsPercentSAndNamesTheNode() throws {
        let boot = FakeBoot(lease: testLease(hostName: "node7"))
        let context = try boot.walk("root=nfs:10.0.2.2:/images/%s")
        #expect(context.plan.nodeName == "node7")
        #expect(boot.events.only("mount nfs").first?.contains("10.0.2.2:/images/node7 ") == true)
        #expect(boot.events.only("hostname") == ["hostname node7"])
    }

    @Test func aServerNameIsResolvedThroughTheLeaseDNS() throws {
        var boot = FakeBoot()
        boot.network.names = ["nfs.cluster": "10.0.2.8"]
        let context = try boot.walk("root=nfs:nfs.cluster:/img")
        #expect(boot.events.only("resolve") == ["resolve nfs.cluster"])
        #expect(context.rootServer == IPAddress("10.0.2.8"))
        #expect(boot.events.only("mount nfs").first?.contains("addr=10.0.2.8") == true)
    }

    /// The tables found at `loadTables` refine the plan; the statelite steps run one by one after it, and xCAT's
    /// `shell` pauses land where xCAT has them: after STATEMNT (before the litetree and the entries), after them.
    @Test func tablesRefineThePlanAndStateliteStepsRunInTheirPlaces() throws {
        let boot = FakeBoot()
        boot.storage.tables = StateliteTables.Loaded(
            litefile: BootInputs.Table(
                name: "litefile",
                text:
                    "#image,file,options,comments,disable\n\"ALL\",\"/etc/motd\",\"tmpfs\",,\n\"ALL\",\"/var/lib/db/\",\"persistent\",,\n"
            ),
            litetree: BootInputs.Table(
                name: "litetree",
                text: "#priority,image,directory,mntopts,comments,disable\n\"1.0\",,\"10.0.2.2:/trees/one\",,,\n"))
        let context = try boot.walk("root=nfs:10.0.2.2:/img NODE=n1 STATEMNT=10.0.2.2:/state shell nodeinit.agent=off")
        #expect(context.plan.statelite.entries.count == 3)  // with the /etc/mtab entry xCAT adds
        #expect(
            boot.events.only("shell", "statelite", "tables", "switch_root") == [
                "shell pause after-root-mount", "shell pause after-overlay", "tables from /run/nodeinit/lower",
                "statelite open /sysroot upper /run/nodeinit/overlay/upper", "statelite tmpfs",
                "statelite statemnt 10.0.2.2:/state/n1 node n1", "shell pause after-statemnt",
                "statelite litetree 10.0.2.2:/trees/one",
            ] + context.plan.statelite.entries.map { "statelite litefile \($0.path) \($0.option.rawValue)" } + [
                "statelite mtab", "shell pause after-statelite", "shell pause before-switch-root",
                "switch_root /sysroot /sbin/init",
            ])
    }

    /// `XCAT=` and no litefile in the image: `fetchXcatdTables` asks xcatd (its address, its port) and the statelite
    /// steps that follow are planned from what it answered.
    @Test func xcatdTablesRefineThePlanWhenTheImageHasNone() throws {
        let boot = FakeBoot()
        boot.storage.xcatd = .success(
            XcatdTables.Fetched(
                litefile: BootInputs.Table(
                    name: "xcatd 10.0.2.2:3001 litefile",
                    text: "tmpfs,rw      /etc/adjtime\nlink          /etc/mtab\npersistent    /var/lib/db/",
                    format: .xcatd),
                litetree: BootInputs.Table(
                    name: "xcatd 10.0.2.2:3001 litetree", text: "10.0.2.2:/trees/one :vers=4.2", format: .xcatd),
                node: "n1", verification: "verified against /xcatpost/_xcat/ca.pem"))
        let context = try boot.walk("root=nfs:10.0.2.2:/img NODE=n1 STATEMNT= XCAT=10.0.2.2:3001 nodeinit.agent=off")
        #expect(context.plan.statelite.entries.map(\.path) == ["/etc/adjtime", "/etc/mtab", "/var/lib/db/"])
        #expect(
            boot.events.only("tables", "xcatd", "statelite") == [
                "tables from /run/nodeinit/lower", "xcatd 10.0.2.2 port 3001 litefile true litetree true",
                "statelite open /sysroot upper /run/nodeinit/overlay/upper", "statelite tmpfs", "statelite no store",
                "statelite litetree 10.0.2.2:/trees/one", "statelite litefile /etc/adjtime link",
                "statelite litefile /etc/mtab link",
                "statelite litefile /var/lib/db/ persistent", "statelite mtab",
            ])
        #expect(context.plan.statelite.treeMounts.first?.attempts.first?.options.contains("vers=4.2") == true)
    }

    /// A litefile in the image wins: xcatd is not asked.
    @Test func anImageLitefileMeansXcatdIsNotAsked() throws {
        let boot = FakeBoot()
        boot.storage.tables = StateliteTables.Loaded(
            litefile: BootInputs.Table(
                name: "litefile", text: "#image,file,options,comments,disable\n\"ALL\",\"/etc/motd\",\"tmpfs\",,\n"))
        let context = try boot.walk("root=nfs:10.0.2.2:/img NODE=n1 STATEMNT= XCAT=10.0.2.2:3001 nodeinit.agent=off")
        #expect(boot.events.only("xcatd").isEmpty)
        #expect(context.plan.statelite.entries.map(\.path) == ["/etc/motd", "/etc/mtab"])
        #expect(context.plan.steps.contains(.fetchXcatdTables))
    }

    /// xcatd failing stops the boot in its own phase, naming the server and the CA it looked for.
    @Test func anXcatdFailureIsReportedInItsPhase() throws {
        let boot = FakeBoot()
        boot.storage.xcatd = .failure(
            .xcatd(endpoint: "10.0.2.2:3001", problem: "litefile: xcatd did not recognise this node", attempts: []))
        #expect {
            _ = try boot.walk("root=nfs:10.0.2.2:/img STATEMNT= XCAT=10.0.2.2:3001 nodeinit.agent=off")
        } throws: { error in
            guard let failure = error as? BootFailure else { return false }
            return failure.phase == .xcatdTables && failure.error.contains("did not recognise this node")
                && failure.inputs.contains(BootFailure.Input("XCAT", "10.0.2.2:3001"))
        }
        #expect(boot.events.only("statelite").isEmpty)
    }

    @Test func noTablesMeansNoStatelite() throws {
        let boot = FakeBoot()
        let context = try boot.walk("root=nfs:10.0.2.2:/img")
        #expect(!context.plan.statelite.enabled)
        #expect(boot.events.only("statelite").isEmpty)
    }

    @Test func aFailedNetworkEndsTheWalkWithWhatWasTried() throws {
        let boot = FakeBoot(lease: nil)
        #expect {
            _ = try boot.walk("ip=dhcp root=nfs:10.0.2.2:/img rd.retry=0")
        } throws: { error in
            guard let failure = error as? BootFailure else { return false }
            return failure.phase == .network && failure.attempts.last?.hasPrefix("1 bring-up attempts") == true
        }
        #expect(boot.events.only("mount").isEmpty)
    }

    /// A persistent overlay: the agent serves the upper the device step really prepared (inside an image file's
    /// loop mount), and a device that fell back gets the tmpfs from the tmpfs step's executor.
    @Test func persistentOverlayServesTheUpperItMounted() throws {
        let boot = FakeBoot()
        let identity = ImageIdentity(server: "10.0.2.2", exportPath: "/img", image: "-", stamp: "s")
        boot.storage.prepared = PersistentOverlay.Prepared(
            mode: .persistent, lowerDirs: "/run/nodeinit/lower",
            upperDir: "/run/nodeinit/overlay-device-image/overlayfs",
            workDir: "/run/nodeinit/overlay-device-image/ovlwork", device: "/dev/loop0", fileSystemType: "ext4",
            identity: identity, recordedIdentity: false)
        _ = try boot.walk("root=nfs:10.0.2.2:/img rd.live.overlay=LABEL=p:/persist.img")
        #expect(boot.kernel.agentUpper == "/run/nodeinit/overlay-device-image/overlayfs")
        #expect(boot.events.only("mount tmpfs").isEmpty)

        let fallback = FakeBoot()
        fallback.storage.prepared = PersistentOverlay.Prepared(
            mode: .tmpfsFallback(reason: "no disk"), lowerDirs: "/run/nodeinit/lower", upperDir: nil, workDir: nil,
            device: nil, fileSystemType: nil, identity: identity, recordedIdentity: false)
        _ = try fallback.walk("root=nfs:10.0.2.2:/img rd.overlay=LABEL=p")
        #expect(fallback.events.only("mount tmpfs") == ["mount tmpfs tmpfs on /run/nodeinit/overlay -o mode=0755"])
        #expect(fallback.kernel.agentUpper == "/run/nodeinit/overlay/upper")
    }

    /// Layers whose writable part no step prepared are refused by `mountOverlay`, and the agent gets no upper
    /// to serve from layers that were never mounted.
    @Test func overlayWithoutAWritableLayerIsNotMounted() throws {
        let boot = FakeBoot()
        let services = BootServices(
            network: boot.network, kernel: boot.kernel, storage: boot.storage, logger: Logger(label: "test"),
            layout: RuntimeLayout(directory: "/run/nodeinit"))
        var context = try BootSequence(services: services).plan(
            commandLine: Array("root=nfs:10.0.2.2:/img rd.overlay=LABEL=p".utf8))
        context.overlay = OverlayLayers(mode: .readOnlyStack, lowerDirs: "/run/nodeinit/lower", writable: nil)
        #expect(context.overlay?.mountedUpperDir == nil)
        do {
            try OverlayMountStep().run(&context, services)
            Issue.record("mounted an overlay without an upper")
        } catch {
            #expect(error.error.contains("no upper directory was prepared"))
        }
        #expect(boot.events.only("mount overlay").isEmpty)
        context.overlay?.writable = OverlayLayers.WritableLayer(upperDir: "/u", workDir: "/w")
        #expect(context.overlay?.mountedUpperDir == nil)
        try OverlayMountStep().run(&context, services)
        #expect(context.overlay?.mountedUpperDir == "/u")
    }
}
