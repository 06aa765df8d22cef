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

    /// Without boot=walt, root=/dev/nfs keeps the kernel syntax's default versions.
    @Test func plainKernelSyntaxIsUnchanged() throws {
        let plan = try Self.plan("root=/dev/nfs nfsroot=10.0.0.1:/srv/img ip=dhcp")
        #expect(plan.root.versions == ["4.2", "4.1", "3"])
        #expect(plan.walt == nil)
    }
}
