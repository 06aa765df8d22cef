import BootConfig
import Logging
import NodeNetwork
import NodeSys
import Testing

@testable import NodeBoot

private func plan(_ commandLine: String) throws -> BootPlan {
    try BootPlanner.plan(BootInputs(commandLine: KernelCommandLine(commandLine)))
}

@Suite struct NFSRootMountTests {
    @Test func everyPlannedAttemptGetsTheAddressLast() throws {
        let root = try plan("root=nfs:nfs.example:/srv/image:rsize=65536").root
        let mount = NFSRootMount(
            attempts: root.attempts, server: "nfs.example", address: IPAddress("10.0.2.2")!, path: root.path,
            target: root.mountPoint)
        let mounts = root.attempts.map { mount.mount(for: $0) }
        #expect(mounts.map(\.fileSystemType) == ["nfs", "nfs4", "nfs4"])
        #expect(mounts.allSatisfy { $0.source == "10.0.2.2:/srv/image" && $0.target == "/run/nodeinit/lower" })
        #expect(mounts.allSatisfy { $0.options.options.last == .init(key: "addr", value: "10.0.2.2") })
        #expect(mounts.allSatisfy { $0.options.contains("ro") && $0.options.value(of: "rsize") == .some("65536") })
        #expect(mounts[0].options.contains("nolock") && !mounts[1].options.contains("nolock"))
        #expect(mounts.map { $0.options.value(of: "vers") } == ["3", "4.2", "4.1"])
        // The image cache options reach mount(2) before the user's own.
        #expect(
            mounts.allSatisfy { $0.options.contains("nocto") && $0.options.value(of: "actimeo") == .some("2592000") })
    }

    /// Rounds after the first wait as the schedule says from the seed (the first round starts at once); the same
    /// seed gives the same pauses, logged in the boot log.
    @Test func roundsPauseOnTheSeededSchedule() throws {
        let root = try plan("root=nfs4:10.0.2.2:/img").root
        let mount = NFSRootMount(
            attempts: root.attempts, server: "10.0.2.2", address: IPAddress("10.0.2.2")!, path: root.path,
            target: root.mountPoint)
        let schedule = RetrySchedule(initialMilliseconds: 20, maximumMilliseconds: 40, jitterMilliseconds: 5)
        func pauses(seed: UInt64) throws -> [String] {
            let kernel = FakeKernel(BootEvents())
            kernel.failingMounts = root.attempts.count * 3  // three failed rounds, the fourth mounts
            let messages = LogLines()
            let logger = Logger(label: "test") { _ in messages }
            _ = try mount.mountWithRetry(
                retrySeconds: 30, kernel: kernel, logger: logger, schedule: schedule, seed: seed)
            return messages.lines.filter { $0.hasPrefix("NFS root not mounted yet") }
        }
        let first = try pauses(seed: 11)
        #expect(first.count == 3)
        let expected = Array(schedule.delays(seed: 11).prefix(3)).map { "next round in \($0) ms" }
        for (line, pause) in zip(first, expected) { #expect(line.contains(pause), "\(line)") }
        #expect(try pauses(seed: 11) == first)
    }

    @Test func ipv6ServersAreBracketed() throws {
        let root = try plan("root=nfs4:[fd00::1]:/img").root
        let mount = NFSRootMount(
            attempts: root.attempts, server: "fd00::1", address: IPAddress("fd00::1")!, path: root.path, target: "/l")
        #expect(root.attempts.first.map { mount.mount(for: $0).source } == "[fd00::1]:/img")
    }

    @Test func serverFallsBackToDHCPAndPathTakesTheHostName() throws {
        var root = try plan("root=nfs:10.0.2.2:/images/%s").root
        var lease = testLease(hostName: "node7", nextServer: "10.0.2.4", serverIdentifier: "10.0.2.5")
        #expect(RootLocation(plan: root, lease: lease) == RootLocation(server: "10.0.2.2", path: "/images/node7"))
        root.server = nil
        #expect(RootLocation(plan: root, lease: lease)?.server == "10.0.2.4")
        lease.boot.hostName = "(none)"
        lease.boot.nextServer = nil
        #expect(RootLocation(plan: root, lease: lease) == RootLocation(server: "10.0.2.5", path: "/images/10.0.2.15"))
        lease.boot.serverIdentifier = nil
        #expect(RootLocation(plan: root, lease: lease) == nil)
        #expect(RootLocation(plan: root, lease: nil) == nil)
    }

    @Test func overlayKeepsTheUpperAFaithfulDiff() throws {
        guard case .tmpfs(let overlay) = try plan("root=nfs:10.0.2.2:/img rd.overlay=tmpfs:size=512m").overlay else {
            Issue.record("expected a tmpfs overlay")
            return
        }
        let writable = OverlayLayers.WritableLayer(upperDir: overlay.mounts.upperDir, workDir: overlay.mounts.workDir)
        let overlayMount = OverlayMountStep.overlayMount(
            lowerDirs: overlay.mounts.lowerDir, writable: writable, mounts: overlay.mounts)
        let tmpfsMount = OverlayTmpfsStep.tmpfsMount(
            at: overlay.tmpfsMountPoint, size: overlay.size, nrInodes: overlay.nrInodes)
        #expect(
            overlayMount.options.description
                == "lowerdir=/run/nodeinit/lower,upperdir=/run/nodeinit/overlay/upper,workdir=/run/nodeinit/overlay/work,"
                + "redirect_dir=off,metacopy=off,index=off,xino=off")
        #expect(overlayMount.target == "/sysroot")
        #expect(tmpfsMount.options.description == "mode=0755,size=512m")
        #expect(tmpfsMount.target == "/run/nodeinit/overlay")
    }

    /// rd.overlay=tmpfs:nr_blocks=N reaches the tmpfs mount (dracut-ng's overlayfs module passes it), with nr_inodes.
    @Test func nrBlocksReachesTheTmpfsMount() throws {
        guard
            case .tmpfs(let overlay) = try plan(
                "root=nfs:10.0.2.2:/img rd.overlay=tmpfs:nr_blocks=131072,nr_inodes=64k"
            )
            .overlay
        else {
            Issue.record("expected a tmpfs overlay")
            return
        }
        let mount = OverlayTmpfsStep.tmpfsMount(
            at: overlay.tmpfsMountPoint, size: overlay.size, nrInodes: overlay.nrInodes, nrBlocks: overlay.nrBlocks)
        #expect(mount.options.description == "mode=0755,nr_blocks=131072,nr_inodes=64k")
    }

    @Test func defaultTmpfsSizeIsTheKernelsHalfOfRAM() throws {
        guard case .tmpfs(let overlay) = try plan("root=nfs:10.0.2.2:/img").overlay else {
            Issue.record("expected a tmpfs overlay")
            return
        }
        #expect(
            OverlayTmpfsStep.tmpfsMount(at: overlay.tmpfsMountPoint, size: overlay.size, nrInodes: overlay.nrInodes)
                .options.description == "mode=0755")
    }

    /// The one resolv.conf writer: DHCP's servers, de-duplicated, at most three in use, then the search list.
    @Test func resolvConfListsServersOnceAndSearch() {
        var lease = testLease()
        lease.nameservers = ["10.0.2.3", "1.1.1.1", "10.0.2.3", "9.9.9.9", "8.8.8.8"].compactMap { IPAddress($0) }
        lease.searchDomains = ["cluster"]
        #expect(
            lease.resolvConf
                == "# written by nodeinit\nnameserver 10.0.2.3\nnameserver 1.1.1.1\nnameserver 9.9.9.9\n"
                + "# (glibc uses only three) nameserver 8.8.8.8\nsearch cluster\n")
    }
}

/// A log handler keeping the messages (one shared instance: every logger made from it appends here).
final class LogLines: LogHandler, @unchecked Sendable {
    var lines: [String] = []
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(
        level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String,
        function: String, line: UInt
    ) {
        lines.append(message.description)
    }
}
