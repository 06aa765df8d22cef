import Testing

@testable import BootConfig

/// The command lines the issue names, planned end to end.
@Suite struct RealCommandLineTests {
    static let xcatDracut =
        "root=nfs:10.187.1.150:/install/netboot/centos7-statelite/x86_64/login/rootimg:ro STATEMNT=10.187.1.150:/install/litetree/login XCAT=10.187.1.150:3001 NODE=jfe01 XCATHTTPPORT=80 console=ttyS0,115200n8r MNTOPTS= BOOTIF=01-52-54-00-12-34-56"
    static let walt =
        "root=/dev/nfs nfsroot=192.168.152.1:/var/lib/walt/nodes/52:54:00:12:34:56/fs,ro,vers=3,nolock,nocto,acregmin=157680000 ip=192.168.152.10:192.168.152.1:192.168.152.1:255.255.255.0:rpi-sw4::off BOOTIF=01-52-54-00-12-34-56 init=/bin/walt-init panic=15"
    static let ovirt = "root=nfs:10.0.0.1:/images/node rd.live.overlay=/dev/sdb:/persist-hda.img"

    static func plan(_ line: String, litefile: String? = nil) throws -> BootPlan {
        try BootPlanner.plan(
            BootInputs(
                commandLine: KernelCommandLine(line),
                litefile: litefile.map { BootInputs.Table(name: "litefile", text: $0) }))
    }

    @Test func xcatDracutLine() throws {
        let plan = try Self.plan(Self.xcatDracut)
        #expect(plan.nodeName == "jfe01")
        #expect(plan.network.bootMAC?.description == "52:54:00:12:34:56")
        #expect(
            plan.network.interfaces == [
                InterfaceConfig(
                    selector: .mac(testMAC("52:54:00:12:34:56")), method: .dhcp, hostname: nil, mtu: nil, mac: nil,
                    origin: "default")
            ])
        #expect(plan.root.server == "10.187.1.150" && plan.root.serverIsAddress)
        #expect(plan.root.path == "/install/netboot/centos7-statelite/x86_64/login/rootimg")
        #expect(plan.root.versions == ["3", "4.2", "4.1"])
        #expect(plan.statelite.enabled)
        #expect(plan.statelite.xcatServer == "10.187.1.150:3001")
        #expect(
            plan.statelite.statemnt
                == StatemntPlan(
                    server: "10.187.1.150", serverIsAddress: true, path: "/install/litetree/login",
                    nodePath: "/install/litetree/login/jfe01", mountPoint: "/.statelite/persistent",
                    attempts: [
                        NFSMountAttempt(
                            version: "4.2", fsType: "nfs4", options: "vers=4.2,nolock,rsize=32768,tcp,timeo=14",
                            readOnly: false),
                        NFSMountAttempt(
                            version: "4.1", fsType: "nfs4", options: "vers=4.1,nolock,rsize=32768,tcp,timeo=14",
                            readOnly: false),
                        NFSMountAttempt(
                            version: "3", fsType: "nfs", options: "vers=3,nolock,rsize=32768,tcp,timeo=14",
                            readOnly: false),
                    ],
                    origin: "STATEMNT"))
        #expect(plan.warnings.isEmpty, "\(plan.warnings)")
        #expect(
            plan.steps == [
                .mountKernelFilesystems, .loadModules(names: ["nfs", "nfsv3", "nfsv4", "overlay"]), .loadDeviceDrivers,
                .configureNetwork, .planFromLease, .mountRoot, .mountOverlayTmpfs, .mountOverlay, .loadTables,
                .fetchXcatdTables, .mountStateliteTmpfs, .mountStatemnt, .linkMtab, .startAgent(port: 7070),
                .prepareShutdown, .switchRoot,
            ])
    }

    @Test func waltLine() throws {
        let plan = try Self.plan(Self.walt)
        #expect(plan.root.syntax == "nfsroot")
        #expect(plan.root.path == "/var/lib/walt/nodes/52:54:00:12:34:56/fs")
        #expect(
            plan.root.attempts == [
                NFSMountAttempt(
                    version: "3", fsType: "nfs", options: "vers=3,ro,nolock,nocto,acregmin=157680000", readOnly: true)
            ])
        #expect(plan.network.interfaces.first?.selector == .mac(testMAC("52:54:00:12:34:56")))
        #expect(
            plan.network.interfaces.first?.method
                == .static(
                    StaticAddress(
                        address: address("192.168.152.10"), prefixLength: 24, gateway: address("192.168.152.1"),
                        peer: address("192.168.152.1"))))
        #expect(plan.nodeName == "rpi-sw4")
        #expect(plan.switchRoot == SwitchRootPlan(newRoot: "/sysroot", initPath: "/bin/walt-init", initArguments: []))
        #expect(plan.debug.panicSeconds == 15)
        #expect(!plan.statelite.enabled)
        #expect(plan.modules.load.map(\.name) == ["nfs", "nfsv3", "overlay"])
        #expect(plan.warnings.isEmpty, "\(plan.warnings)")
    }

    @Test func ovirtLine() throws {
        let plan = try Self.plan(Self.ovirt)
        guard case .device(let overlay) = plan.overlay else {
            Issue.record("expected a device overlay")
            return
        }
        #expect(overlay.device == .path("/dev/sdb") && overlay.path == "/persist-hda.img")
        #expect(plan.warnings == ["rd.live.overlay is deprecated: use rd.overlay"])
    }

    @Test func cookbookPXEAppendWithRedhatLitefile() throws {
        let plan = try Self.plan(CookbookFixtures.pxeAppendX86, litefile: CookbookFixtures.redhatLitefile)
        #expect(plan.root.syntax == "NFSROOT")
        #expect(plan.root.server == "172.10.0.1")
        #expect(plan.root.path == "/install/netboot/centos5.3/x86_64/all/rootimg")
        #expect(plan.statelite.statemnt?.server == "cnfs")
        #expect(plan.statelite.statemnt?.serverIsAddress == false)
        #expect(plan.statelite.statemnt?.nodePath == "/gpfs/state/%n")
        #expect(plan.statelite.entries.count == 42)
        #expect(
            plan.statelite.entries.allSatisfy {
                $0.sources == ["/.default" + $0.path, $0.path] && $0.option == .link && $0.parent == nil
            })
        let applied = plan.steps.compactMap { step -> String? in
            if case .applyLitefile(_, let path) = step { return path }
            return nil
        }
        #expect(applied == plan.statelite.entries.map(\.path))
        #expect(plan.warnings.isEmpty, "\(plan.warnings)")
    }

    @Test func cookbookYabootAppendWithSlesLitefile() throws {
        let plan = try Self.plan(CookbookFixtures.yabootAppendPOWER, litefile: CookbookFixtures.slesLitefile)
        #expect(plan.root.path == "/install/netboot/sles11/ppc64/compute/rootimg")
        #expect(plan.statelite.enabled && plan.statelite.statemnt == nil)
        #expect(plan.statelite.entries.count == 24)
        #expect(plan.statelite.entries.first?.path == "/etc/fstab")
    }

    @Test func nearMissWarnings() throws {
        let plan = try Self.plan(
            "root=nfs:a:/b rd.overlay.rest STATMNT=x:/y nodeinit.agnet=1 initrd=x BOOT_IMAGE=y quiet rw bootif=x nfsroot_x splash rd.lvm.lv=a/b"
        )
        #expect(
            plan.warnings == [
                "unknown parameter rd.overlay.rest: did you mean rd.overlay.reset?",
                "unknown parameter STATMNT: did you mean STATEMNT?",
                "unknown parameter nodeinit.agnet: did you mean nodeinit.agent?",
                "unknown parameter bootif: did you mean BOOTIF?",
                "rw ignored: the NFS root is always mounted read-only (the overlay makes / writable)",
            ])
    }

    @Test func nodeinitNamespace() throws {
        let plan = try Self.plan(
            "root=nfs:a:/b nodeinit.image=rhels9-compute nodeinit.litefile=/etc/nodeinit/litefile.csv "
                + "nodeinit.litetree=nfs://10.0.0.1/tables/litetree.csv nodeinit.statelite=nfs://[fd00::1]/t/statelite.csv "
                + "nodeinit.agent=7171 nodeinit.agent.allow=10.0.0.0/24,fd00::1 nodeinit.agent.token=/etc/nodeinit/token "
                + "nodeinit.save.exclude=/var/cache,/tmp nodeinit.save.exclude=/var/cache -- single")
        #expect(plan.image == "rhels9-compute")
        #expect(
            plan.tables
                == TableLocations(
                    litefile: .image(path: "/etc/nodeinit/litefile.csv"),
                    litetree: .nfs(server: "10.0.0.1", path: "/tables/litetree.csv"),
                    statelite: .nfs(server: "[fd00::1]", path: "/t/statelite.csv")))
        #expect(
            plan.agent
                == AgentPlan(
                    port: 7171, allow: [IPNetwork("10.0.0.0/24"), IPNetwork("fd00::1")].compactMap { $0 },
                    allowBootServer: false,
                    tokenPath: "/etc/nodeinit/token"))
        #expect(plan.saveExclude == ["/tmp", "/var/cache"])
        #expect(plan.switchRoot.initArguments == ["single"])
        let off = try Self.plan("root=nfs:a:/b nodeinit.agent=off")
        #expect(off.agent.port == nil && !off.steps.contains(.startAgent(port: 7070)))
    }

    @Test func samePlanEveryTime() throws {
        let lines = [Self.xcatDracut, Self.walt, Self.ovirt, CookbookFixtures.pxeAppendX86]
        for line in lines {
            let first = try BootPlanner.plan(
                BootInputs(
                    commandLine: KernelCommandLine(line),
                    litefile: BootInputs.Table(name: "lf", text: CookbookFixtures.slesLitefile),
                    litetree: BootInputs.Table(name: "lt", text: CookbookFixtures.litetree),
                    statelite: BootInputs.Table(name: "sl", text: CookbookFixtures.statelite), hostName: "cn1"))
            for _ in 0..<20 {
                let again = try BootPlanner.plan(
                    BootInputs(
                        commandLine: KernelCommandLine(line),
                        litefile: BootInputs.Table(name: "lf", text: CookbookFixtures.slesLitefile),
                        litetree: BootInputs.Table(name: "lt", text: CookbookFixtures.litetree),
                        statelite: BootInputs.Table(name: "sl", text: CookbookFixtures.statelite), hostName: "cn1"))
                #expect(again == first)
                #expect(again.renderText() == first.renderText())
            }
        }
    }
}
