import BootConfig
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
            attempts: root.attempts, server: "nfs.example", address: "10.0.2.2", path: root.path, target: root.mountPoint)
        let mounts = root.attempts.map { mount.mount(for: $0) }
        #expect(mounts.map(\.fileSystemType) == ["nfs4", "nfs4", "nfs"])
        #expect(mounts.allSatisfy { $0.source == "10.0.2.2:/srv/image" && $0.target == "/run/nodeinit/lower" })
        #expect(mounts.allSatisfy { $0.options.options.last == .init(key: "addr", value: "10.0.2.2") })
        #expect(mounts.allSatisfy { $0.options.contains("ro") && $0.options.value(of: "rsize") == .some("65536") })
        #expect(mounts[2].options.contains("nolock"))
        #expect(mounts[0].options.value(of: "vers") == .some("4.2"))
    }

    @Test func ipv6ServersAreBracketed() throws {
        let root = try plan("root=nfs4:[fd00::1]:/img").root
        let mount = NFSRootMount(attempts: root.attempts, server: "fd00::1", address: "fd00::1", path: root.path, target: "/l")
        #expect(root.attempts.first.map { mount.mount(for: $0).source } == "[fd00::1]:/img")
    }

    @Test func serverFallsBackToDHCPAndPathTakesTheHostName() throws {
        var root = try plan("root=nfs:10.0.2.2:/images/%s").root
        let network = NetworkState(
            interface: "eth0", address: "10.0.2.15", hostname: "node7", nextServer: "10.0.2.4", serverIdentifier: "10.0.2.5")
        #expect(RootLocation(plan: root, network: network) == RootLocation(server: "10.0.2.2", path: "/images/node7"))
        root.server = nil
        #expect(RootLocation(plan: root, network: network)?.server == "10.0.2.4")
        var anonymous = network
        anonymous.hostname = nil
        anonymous.nextServer = nil
        #expect(RootLocation(plan: root, network: anonymous) == RootLocation(server: "10.0.2.5", path: "/images/10.0.2.15"))
        anonymous.serverIdentifier = nil
        #expect(RootLocation(plan: root, network: anonymous) == nil)
    }

    @Test func overlayKeepsTheUpperAFaithfulDiff() throws {
        guard case .tmpfs(let overlay) = try plan("root=nfs:10.0.2.2:/img rd.overlay=tmpfs:size=512m").overlay else {
            Issue.record("expected a tmpfs overlay")
            return
        }
        let root = OverlayRoot(plan: overlay)
        #expect(
            root.overlayMount.options.description
                == "lowerdir=/run/nodeinit/lower,upperdir=/run/nodeinit/overlay/upper,workdir=/run/nodeinit/overlay/work,"
                + "redirect_dir=off,metacopy=off,index=off,xino=off")
        #expect(root.overlayMount.target == "/sysroot")
        #expect(root.tmpfsMount.options.description == "mode=0755,size=512m")
        #expect(root.tmpfsMount.target == "/run/nodeinit/overlay")
    }

    @Test func defaultTmpfsSizeIsTheKernelsHalfOfRAM() throws {
        guard case .tmpfs(let overlay) = try plan("root=nfs:10.0.2.2:/img").overlay else {
            Issue.record("expected a tmpfs overlay")
            return
        }
        #expect(OverlayRoot(plan: overlay).tmpfsMount.options.description == "mode=0755")
    }

    @Test func resolvConfListsServersAndSearch() {
        let state = NetworkState(interface: "eth0", address: "10.0.2.15", nameservers: ["10.0.2.3", "1.1.1.1"], searchDomains: ["cluster"])
        #expect(state.resolvConf == "# written by nodeinit from eth0\nsearch cluster\nnameserver 10.0.2.3\nnameserver 1.1.1.1\n")
    }
}
