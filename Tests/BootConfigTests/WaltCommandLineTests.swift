import Foundation
import RuntimeLayout
import Testing

@testable import BootConfig

/// The kernel command lines WalT's own boot files write (drakkar-lig/walt-images), with the values a node gets:
/// `overlays/ipxe/boot/common-ipxe/start-generic-nfs3.ipxe` and `-nfs4.ipxe` (+ `start-generic-2.ipxe`),
/// `overlays/rpi-uboot/boot/common-rpi/u-boot-scripts/compute-bootargs.sh`,
/// `overlays/nanopi-r5c/boot/nanopi-r5c/start-uboot-nfs*.txt` and `overlays/rpi64-debian/boot/common-rpi/cmdline-nfs.txt`.
@Suite struct WaltCommandLineTests {
    static let acOptions = "acregmin=157680000,acregmax=157680000,acdirmin=157680000,acdirmax=157680000"
    static let ipxeNFS3 =
        "root=/dev/nfs boot=walt rootfstype=walt nfsroot=192.168.152.1:/var/lib/walt/nodes/52:54:00:12:34:56/fs,ro,vers=3,nolock,nocto,\(acOptions) "
        + "walt.node.model=pc-x86-64 walt.server.ip=192.168.152.1 init=/bin/walt-init panic=30 "
        + "ip=192.168.152.12:192.168.152.1:192.168.152.1:255.255.252.0:walt-node-12::off BOOTIF=01-52-54-00-12-34-56"
    static let ipxeNFS4 =
        "root=/dev/nfs4 boot=walt rootfstype=walt nfsroot=192.168.152.1:/var/lib/walt/nodes/52:54:00:12:34:56/fs,ro,nocto,\(acOptions) "
        + "walt.node.model=pc-x86-64 walt.server.ip=192.168.152.1 init=/bin/walt-init panic=30 "
        + "ip=192.168.152.12:192.168.152.1:192.168.152.1:255.255.252.0:walt-node-12::off BOOTIF=01-52-54-00-12-34-56"
    /// compute-bootargs.sh (u-boot on a Raspberry Pi): the node's IP in the path, `net.ifnames=0 biosdevname=0`.
    static let ubootNFS =
        "root=/dev/nfs boot=walt rootfstype=walt nfsroot=192.168.152.1:/var/lib/walt/nodes/192.168.152.14/fs,ro,vers=3,nolock,nocto,\(acOptions) "
        + "ip=192.168.152.14:192.168.152.1:192.168.152.1:255.255.252.0:rpi-sw4-14::off BOOTIF=01-b8-27-eb-12-34-56 "
        + "init=/bin/walt-init panic=15 net.ifnames=0 biosdevname=0"
    static let ubootNFS4 =
        "root=/dev/nfs4 boot=walt rootfstype=walt nfsroot=192.168.152.1:/var/lib/walt/nodes/192.168.152.14/fs,ro,nocto,\(acOptions) "
        + "ip=192.168.152.14:192.168.152.1:192.168.152.1:255.255.252.0:rpi-sw4-14::off BOOTIF=01-b8-27-eb-12-34-56 "
        + "init=/bin/walt-init panic=15 net.ifnames=0 biosdevname=0"
    static let ubootNBFS =
        "root=/dev/nbfs boot=walt rootfstype=walt nbfsroot=192.168.152.1:/var/lib/walt/nodes/192.168.152.14/fs "
        + "ip=192.168.152.14:192.168.152.1:192.168.152.1:255.255.252.0:rpi-sw4-14::off BOOTIF=01-b8-27-eb-12-34-56 "
        + "init=/bin/walt-init panic=15 net.ifnames=0 biosdevname=0"
    /// The Raspberry Pi firmware's cmdline.txt: no server (the DHCP server), `%s` for the host name, no ip=.
    static let rpiFirmware =
        "console=tty1 console=serial0,115200 boot=walt root=/dev/nfs nfsroot=/var/lib/walt/nodes/%s/fs,ro,vers=3,nolock,nocto,\(acOptions) "
        + "init=/bin/walt-init panic=15 net.ifnames=0 biosdevname=0"

    static func plan(_ line: String, hostName: String? = nil) throws -> BootPlan {
        try BootPlanner.plan(BootInputs(commandLine: KernelCommandLine(line), hostName: hostName))
    }

    @Test(arguments: [ipxeNFS3, ubootNFS, rpiFirmware])
    func nfsMeansNFSv3AsWaltsNfsmount(_ line: String) throws {
        let plan = try Self.plan(line)
        #expect(plan.root.versions == ["3"])
        #expect(plan.root.attempts.map(\.fsType) == ["nfs"])
        #expect(plan.root.attempts.first?.options.hasPrefix("vers=3,ro,nolock,nocto,acregmin=157680000") == true)
        #expect(plan.switchRoot.initPath == "/bin/walt-init")
        #expect(plan.walt?.boot == true)
        #expect(plan.warnings.isEmpty)
        #expect(plan.modules.parameters.isEmpty)  // walt.* and net.ifnames are not module parameters
    }

    @Test(arguments: [ipxeNFS4, ubootNFS4])
    func nfs4MeansNFSv4HighestFirst(_ line: String) throws {
        let plan = try Self.plan(line)
        #expect(plan.root.syntax == "root=/dev/nfs4")
        #expect(plan.root.versions == ["4.2", "4.1", "4.0"])
        #expect(plan.root.attempts.allSatisfy { $0.fsType == "nfs4" && $0.options.contains("nocto") })
        #expect(plan.root.server == "192.168.152.1")
    }

    @Test func waltParametersAreKeptAndTheServerMayPull() throws {
        let plan = try Self.plan(Self.ipxeNFS3)
        #expect(plan.walt?.serverAddress == IPAddress("192.168.152.1"))
        #expect(plan.walt?.nodeModel == "pc-x86-64")
        #expect(plan.walt?.parameters.map(\.name) == ["node.model", "server.ip"])
        #expect(plan.agent.allowBootServer)
        #expect(plan.agent.allow.map(\.description) == ["192.168.152.1/32"])
        #expect(plan.root.path == "/var/lib/walt/nodes/52:54:00:12:34:56/fs")
        #expect(plan.nodeName == "walt-node-12")
        #expect(plan.network.bootMAC?.description == "52:54:00:12:34:56")
        #expect(plan.debug.panicSeconds == 30)
        // An explicit allowlist replaces every default, the WalT server's too.
        let explicit = try Self.plan(Self.ipxeNFS3 + " nodeinit.agent.allow=10.1.0.0/16")
        #expect(explicit.agent.allow.map(\.description) == ["10.1.0.0/16"])
        #expect(!explicit.agent.allowBootServer)
    }

    @Test func serverlessNfsrootTakesTheDHCPServerAndTheHostName() throws {
        let early = try Self.plan(Self.rpiFirmware)
        #expect(early.root.server == nil)
        #expect(early.root.hostnameSubstitution)
        let leased = try Self.plan(Self.rpiFirmware, hostName: "rpi-sw4-14")
        #expect(leased.root.path == "/var/lib/walt/nodes/rpi-sw4-14/fs")
    }

    @Test func nbfsIsRefusedNamingIt() throws {
        #expect {
            _ = try Self.plan(Self.ubootNBFS)
        } throws: { error in
            "\(error)".contains("nbfs is WalT's FUSE network file system")
        }
    }

    @Test func badWaltValuesAreNamed() throws {
        #expect {
            _ = try Self.plan(Self.ipxeNFS3 + " walt.server.ip=walt-server")
        } throws: { error in
            "\(error)".contains("walt.server.ip") && "\(error)".contains("IP address")
        }
        #expect {
            _ = try Self.plan("root=/dev/nfs4 nfsroot=10.0.0.1:/x,vers=3")
        } throws: { error in
            "\(error)".contains("conflicts with vers=3")
        }
        #expect {
            _ = try Self.plan("root=nfs:10.0.0.1:/x rootfstype=ext4")
        } throws: { error in
            "\(error)".contains("rootfstype")
        }
    }

    /// Without boot=walt, root=/dev/nfs keeps the image root's default versions (NFSv3 first, then v4).
    @Test func plainKernelSyntaxIsUnchanged() throws {
        let plan = try Self.plan("root=/dev/nfs nfsroot=10.0.0.1:/srv/img ip=dhcp")
        #expect(plan.root.versions == ["3", "4.2", "4.1"])
        #expect(plan.walt == nil)
    }

    // MARK: - walt-init builds the overlay

    @Test(arguments: [ipxeNFS3, ipxeNFS4, ubootNFS, ubootNFS4, rpiFirmware])
    func waltInitGetsTheReadOnlyRootAndBuildsTheOverlay(_ line: String) throws {
        let plan = try Self.plan(line, hostName: "rpi-sw4-14")
        guard case .waltInit(let walt) = plan.overlay else {
            Issue.record("expected walt-init's overlay, got \(plan.overlay)")
            return
        }
        #expect(walt.initPath == "/bin/walt-init")
        #expect(walt.networkUpper == "/run/walt/rootfs/mnt/fs_rw")
        #expect(plan.root.mountPoint == "/sysroot")  // the NFS root is the new root: no overlay of ours under walt's
        let overlaySteps = plan.steps.filter {
            $0 == .mountOverlay || $0 == .mountOverlayTmpfs || $0 == .mountOverlayDevice
        }
        #expect(overlaySteps.isEmpty)
        #expect(plan.steps.contains(.startAgent(port: 7070)))
        #expect(plan.steps.last == .switchRoot)
        // overlay for walt-init's union, nfsv3 for its /persist mount, whatever the root's version.
        let loaded = plan.modules.load.map(\.name)
        #expect(loaded.contains("overlay") && loaded.contains("nfsv3"))
        let rendered = plan.renderText()
        #expect(rendered.contains("mounts WalT's own overlay over it"))
        // The plan survives `nodeinit plan --json` and back.
        let decoded = try JSONDecoder().decode(BootPlan.self, from: try JSONEncoder().encode(plan))
        #expect(decoded == plan)
    }

    @Test func anOverlayOfOursUnderWaltInitIsRefused() throws {
        for overlay in ["rd.overlay=LABEL=persist", "rd.live.overlay=/dev/sdb:/persist-hda.img", "rd.overlay=tmpfs"] {
            #expect {
                _ = try Self.plan(Self.ipxeNFS3 + " " + overlay)
            } throws: { error in
                "\(error)".contains("init=\"/bin/walt-init\"") && "\(error)".contains("second one under it")
            }
        }
        // rd.overlay=0 asks for no overlay of ours, which is what walt-init needs anyway.
        let plan = try Self.plan(Self.ipxeNFS3 + " rd.overlay=0")
        guard case .waltInit = plan.overlay else {
            Issue.record("rd.overlay=0 with walt-init: \(plan.overlay)")
            return
        }
    }

    /// boot=walt with another init: nodeinit builds its tmpfs overlay as for any image.
    @Test func anotherInitGetsOurOverlay() throws {
        let plan = try Self.plan(Self.ipxeNFS3.replacingOccurrences(of: "init=/bin/walt-init", with: "init=/sbin/init"))
        guard case .tmpfs = plan.overlay else {
            Issue.record("expected a tmpfs overlay, got \(plan.overlay)")
            return
        }
        #expect(plan.root.mountPoint == "/run/nodeinit/lower")
    }

    // MARK: - WaltLayout: walt-init's upper from /bin/walt-env

    /// As the WalT server writes it (`walt-env` template) and walt-init completes it (`walt-init-rootfs-main`).
    static let serverEnvironment = """
        #!/bin/sh

        export walt_server_ip=192.168.152.1
        export walt_server_rpc_port=12345
        export walt_server_logs_port=12346
        export walt_server_notify_bootup_port=12347
        export walt_image_id=3f6a2b9c0d1e
        export walt_image_size_kib=912384

        """

    @Test func upperFollowsTheBootModeWaltInitRecorded() throws {
        let network = Self.serverEnvironment + "export walt_boot_mode='network'\n"
        #expect(try WaltLayout.upperDirectory(environment: network) == "/run/walt/rootfs/mnt/fs_rw")
        let volatile = Self.serverEnvironment + "export walt_boot_mode='hybrid-volatile'\n"
        #expect(
            try WaltLayout.upperDirectory(environment: volatile)
                == "/run/walt/rootfs/mnt/hm_part/walt_hybrid/3f6a2b9c0d1e/diff")
        let persistent = Self.serverEnvironment + "walt_boot_mode=\"hybrid-persistent\"\n"
        #expect(try WaltLayout.upperDirectory(environment: persistent).hasSuffix("/3f6a2b9c0d1e/diff"))
        // walt-init rewrites the line at every boot; the last assignment is the one the shell keeps.
        let rewritten = volatile + "export walt_boot_mode='network'\n"
        #expect(try WaltLayout.upperDirectory(environment: rewritten) == WaltLayout.networkUpper)
    }

    @Test func environmentProblemsAreNamed() {
        #expect(throws: WaltLayout.Error.noBootMode) {
            try WaltLayout.upperDirectory(environment: Self.serverEnvironment)
        }
        #expect(throws: WaltLayout.Error.unknownBootMode("nbfs")) {
            try WaltLayout.upperDirectory(environment: "walt_boot_mode=nbfs\n")
        }
        for id in ["", "..", "../../etc", "a/b"] {
            #expect(throws: WaltLayout.Error.badImageID(id)) {
                try WaltLayout.upperDirectory(environment: "walt_image_id='\(id)'\nwalt_boot_mode=hybrid-volatile\n")
            }
        }
        #expect("\(WaltLayout.Error.noBootMode)".contains("/bin/walt-env has no walt_boot_mode"))
    }
}
