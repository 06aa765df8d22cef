import Testing

@testable import BootConfig

struct RootCase: CustomStringConvertible, Sendable {
    var commandLine: String
    var syntax: String
    var server: String?
    var path: String
    var options: [String]  // exact mount(2) option strings, in attempt order
    var description: String { commandLine }
}

/// The image root's attempts when nothing chooses versions or caching: NFSv3 first (no OPEN/CLOSE per open(2)), then
/// 4.2 and 4.1, each with the cache options of an image that does not change under a booted node.
let defaultRootAttempts = [
    "vers=3,ro,nolock,nocto,actimeo=2592000", "vers=4.2,ro,nocto,actimeo=2592000", "vers=4.1,ro,nocto,actimeo=2592000",
]

@Suite struct RootSpecTests {
    static let cases: [RootCase] = [
        RootCase(
            commandLine: "root=nfs:10.187.1.150:/install/netboot/centos7-statelite/x86_64/login/rootimg:ro",
            syntax: "root=nfs:", server: "10.187.1.150",
            path: "/install/netboot/centos7-statelite/x86_64/login/rootimg",
            options: defaultRootAttempts),
        RootCase(
            commandLine: "NFSROOT=172.10.0.1:/install/netboot/centos5.3/x86_64/all",
            syntax: "NFSROOT", server: "172.10.0.1", path: "/install/netboot/centos5.3/x86_64/all/rootimg",
            options: defaultRootAttempts),
        RootCase(
            commandLine: "NFSROOT=mgmt:/install/netboot/rhels9/x86_64/compute/",
            syntax: "NFSROOT", server: "mgmt", path: "/install/netboot/rhels9/x86_64/compute/rootimg",
            options: defaultRootAttempts),
        RootCase(
            commandLine:
                "root=/dev/nfs nfsroot=192.168.152.1:/var/lib/walt/nodes/52:54:00:12:34:56/fs,ro,vers=3,nolock,nocto,acregmin=157680000",
            syntax: "nfsroot", server: "192.168.152.1", path: "/var/lib/walt/nodes/52:54:00:12:34:56/fs",
            options: ["vers=3,ro,nolock,nocto,acregmin=157680000"]),
        RootCase(
            commandLine: "root=nfs4:[2001:DB8::1]:/export/img:ro,noac",
            syntax: "root=nfs4:", server: "2001:db8::1", path: "/export/img",
            options: ["vers=4.2,ro,nocto,noac", "vers=4.1,ro,nocto,noac", "vers=4.0,ro,nocto,noac"]),
        RootCase(
            commandLine:
                "root=nfs:server.example:/srv/%s/root,vers=4.1,lock ip=10.0.0.5::10.0.0.1:255.255.255.0:node5:eth0:none",
            syntax: "root=nfs:", server: "server.example", path: "/srv/node5/root",
            options: ["vers=4.1,ro,lock,nocto,actimeo=2592000"]),
        RootCase(
            commandLine: "root=nfs:/images/base ip=10.0.0.5:10.0.0.9:10.0.0.1:24::eth0:none",
            syntax: "root=nfs:", server: "10.0.0.9", path: "/images/base",
            options: defaultRootAttempts),
        RootCase(
            commandLine: "root=nfs://nfs.example:2050/export nodeinit.nfs.versions=3",
            syntax: "root=nfs://", server: "nfs.example", path: "/export",
            options: ["vers=3,ro,nolock,nocto,actimeo=2592000,port=2050"]),
        RootCase(
            commandLine: "root=10.1.1.1:/legacy/path:nfsvers=3,lock,tcp",
            syntax: "root=nfs:", server: "10.1.1.1", path: "/legacy/path",
            options: ["vers=3,ro,nolock,nocto,actimeo=2592000,tcp"]),
        // root=/dev/nfs without nfsroot= and only a static ip=: no lease will bring a root-path, so the kernel's
        // default path at once, from the ip= server field.
        RootCase(
            commandLine: "root=/dev/nfs ip=10.0.0.5:10.0.0.9:10.0.0.1:255.255.255.0:cn5:eth0:off",
            syntax: "root=/dev/nfs", server: "10.0.0.9", path: "/tftpboot/cn5",
            options: defaultRootAttempts),
        // xCAT's nfs_root_options.t: an IPv6 clientaddr= is kept (option values may contain colons).
        RootCase(
            commandLine: "root=nfs:192.0.2.1:/install/netboot/test/rootimg:ro,clientaddr=2001:db8::1",
            syntax: "root=nfs:", server: "192.0.2.1", path: "/install/netboot/test/rootimg",
            options: [
                "vers=3,ro,nolock,nocto,actimeo=2592000,clientaddr=2001:db8::1",
                "vers=4.2,ro,nocto,actimeo=2592000,clientaddr=2001:db8::1",
                "vers=4.1,ro,nocto,actimeo=2592000,clientaddr=2001:db8::1",
            ]),
        RootCase(
            commandLine: "root=nfs4:[2001:db8::10]:/img:clientaddr=2001:db8::42,noac",
            syntax: "root=nfs4:", server: "2001:db8::10", path: "/img",
            options: [
                "vers=4.2,ro,nocto,clientaddr=2001:db8::42,noac", "vers=4.1,ro,nocto,clientaddr=2001:db8::42,noac",
                "vers=4.0,ro,nocto,clientaddr=2001:db8::42,noac",
            ]),
        RootCase(
            commandLine: "root=/dev/nfs nfsroot=10.0.0.1:/export,vers=4.1,clientaddr=10.0.0.42",
            syntax: "nfsroot", server: "10.0.0.1", path: "/export",
            options: ["vers=4.1,ro,nocto,actimeo=2592000,clientaddr=10.0.0.42"]),
        RootCase(
            commandLine: "root=nfs:srv:/e:vers=4,minorversion=1",
            syntax: "root=nfs:", server: "srv", path: "/e", options: ["vers=4.1,ro,nocto,actimeo=2592000"]),
    ]

    @Test(arguments: cases)
    func root(_ testCase: RootCase) throws {
        let plan = try BootPlanner.plan(BootInputs(commandLine: KernelCommandLine(testCase.commandLine)))
        #expect(plan.root.syntax == testCase.syntax)
        #expect(plan.root.server == testCase.server)
        #expect(plan.root.path == testCase.path)
        #expect(plan.root.attempts.map(\.options) == testCase.options)
        #expect(plan.root.attempts.allSatisfy { $0.readOnly })
        #expect(plan.root.attempts.allSatisfy { ($0.version == "3") == ($0.fsType == "nfs") })
    }

    @Test func hostnameSubstitutionWaitsForRuntimeName() throws {
        let plan = try BootPlanner.plan(
            BootInputs(commandLine: KernelCommandLine("root=/dev/nfs nfsroot=10.0.0.1:/tftpboot/%s")))
        #expect(plan.root.hostnameSubstitution)
        #expect(plan.root.path == "/tftpboot/%s")
        let later = try BootPlanner.plan(
            BootInputs(commandLine: KernelCommandLine("root=/dev/nfs nfsroot=10.0.0.1:/tftpboot/%s"), hostName: "cn7"))
        #expect(!later.root.hostnameSubstitution)
        #expect(later.root.path == "/tftpboot/cn7")
    }

    @Test func ipv6ServerIsAnAddress() throws {
        let spec = try RootSpec.parse(KernelCommandLine("root=nfs:[fe80::1]:/x"))
        #expect(spec.server == "fe80::1")
        #expect(spec.serverIsAddress)
        let named = try RootSpec.parse(KernelCommandLine("root=nfs:nfs-1.cluster:/x"))
        #expect(!named.serverIsAddress)
    }

    @Test func numericNodeNamesButNotNumericServers() throws {
        #expect(try StateliteSpec.parse(KernelCommandLine("NODE=1001")).node == "1001")
        #expect(throws: ParameterError.self) { try RootSpec.parse(KernelCommandLine("root=nfs:10.0.0.300:/x")) }
    }

    @Test func overlayOffMountsRootOnNewRoot() throws {
        let plan = try BootPlanner.plan(BootInputs(commandLine: KernelCommandLine("root=nfs:a:/b rd.overlay=0")))
        #expect(plan.overlay == .none)
        #expect(plan.root.mountPoint == "/sysroot")
        #expect(!plan.modules.load.contains { $0.name == "overlay" })
    }
}

/// dracut's `root=dhcp`: the root comes from the lease's root-path (option 17), planned again once it is known.
@Suite struct DHCPRootPathTests {
    @Test func beforeTheLeaseTheRootWaitsForDHCP() throws {
        let plan = try BootPlanner.plan(BootInputs(commandLine: KernelCommandLine("root=dhcp")))
        #expect(plan.root.awaitsDHCPRootPath)
        #expect(plan.root.server == nil && plan.root.path.isEmpty)
        #expect(plan.steps.contains(.configureNetwork) && plan.steps.contains(.mountRoot))
        #expect(plan.renderText().contains("root-path (option 17)"))
    }

    @Test(
        arguments: [
            // ISC dhcpd / dnsmasq root-path as sites write it, and dracut's nfs-lib forms.
            (
                "10.0.0.1:/srv/images/compute", "10.0.0.1", "/srv/images/compute",
                defaultRootAttempts
            ),
            ("nfs:10.0.0.1:/srv/img:vers=3,nolock", "10.0.0.1", "/srv/img", ["vers=3,ro,nolock,nocto,actimeo=2592000"]),
            (
                "nfs4:nfs-1.cluster:/exports/img", "nfs-1.cluster", "/exports/img",
                [
                    "vers=4.2,ro,nocto,actimeo=2592000", "vers=4.1,ro,nocto,actimeo=2592000",
                    "vers=4.0,ro,nocto,actimeo=2592000",
                ]
            ),
            ("nfs://10.0.0.1/srv/img", "10.0.0.1", "/srv/img", defaultRootAttempts),
            ("  /srv/images/%s ", nil, "/srv/images/%s", defaultRootAttempts),
            ("[fd00::1]:/img,vers=4.2", "fd00::1", "/img", ["vers=4.2,ro,nocto,actimeo=2592000"]),
        ] as [(String, String?, String, [String])])
    func rootPathForms(rootPath: String, server: String?, path: String, options: [String]) throws {
        let plan = try BootPlanner.plan(
            BootInputs(
                commandLine: KernelCommandLine("root=dhcp rd.overlay=0"), dhcpRootPath: rootPath))
        #expect(!plan.root.awaitsDHCPRootPath)
        #expect(plan.root.syntax == "root=dhcp")
        #expect(plan.root.server == server)
        #expect(plan.root.path == path)
        #expect(plan.root.attempts.map(\.options) == options)
        #expect(plan.root.dhcpRootPath == rootPath.trimmingASCIIWhitespace())
    }

    @Test(arguments: [
        ("", "root=dhcp root-path=\"\": the DHCP server sent an empty root-path (option 17)"),
        (
            "iscsi:@10.0.0.1::3260::iqn.2009-06.dracut:target0",
            "root=dhcp root-path=\"iscsi:@10.0.0.1::3260::iqn.2009-06.dracut:target0\": not an NFS root (iscsi:); nodeinit boots NFS roots only"
        ),
        ("10.0.0.1:images", "root=dhcp root-path=\"10.0.0.1:images\": export path must start with /"),
    ])
    func badRootPathsNameTheDHCPOption(rootPath: String, message: String) {
        let error = #expect(throws: ParameterError.self) {
            try BootPlanner.plan(BootInputs(commandLine: KernelCommandLine("root=dhcp"), dhcpRootPath: rootPath))
        }
        #expect(error.map { "\($0)" } == message)
    }
}

/// Kernel `root=/dev/nfs` without `nfsroot=`: the DHCP root-path (option 17) first, `/tftpboot/%s` only when the lease
/// has none (fs/nfs/nfsroot.c parses root_server_path before nfsroot=; dracut's nfsroot_from_dhcp sets
/// path=/tftpboot/%s only when the root-path gave no path).
@Suite struct KernelDefaultRootTests {
    @Test(arguments: ["root=/dev/nfs", "root=/dev/nfs ip=dhcp", "root=/dev/nfs ip=eth0:dhcp", "root=/dev/nfs4"])
    func beforeTheLeaseTheRootWaits(_ line: String) throws {
        let plan = try BootPlanner.plan(BootInputs(commandLine: KernelCommandLine(line)))
        #expect(plan.root.awaitsDHCPRootPath)
        #expect(plan.root.rootPathFallback == "/tftpboot/%s")
        #expect(plan.root.server == nil && plan.root.path.isEmpty)
        let text = plan.renderText()
        #expect(text.contains("root-path (DHCP option 17), else /tftpboot/%s"), "\(text)")
    }

    @Test(
        arguments: [
            // What ISC dhcpd's `option root-path` and dnsmasq's `dhcp-option=17,...` carry for kernel nfsroot.
            (
                "10.0.0.1:/srv/images/compute", "10.0.0.1", "/srv/images/compute", nil,
                defaultRootAttempts
            ),
            (
                "10.0.0.1:/srv/nodes/%s,vers=3,nocto", "10.0.0.1", "/srv/nodes/cn7", "cn7",
                ["vers=3,ro,nolock,actimeo=2592000,nocto"]
            ),
            ("/srv/nodes/%s", nil, "/srv/nodes/cn7", "cn7", defaultRootAttempts),
            ("nfs:10.0.0.1:/srv/img:vers=3", "10.0.0.1", "/srv/img", nil, ["vers=3,ro,nolock,nocto,actimeo=2592000"]),
            ("[fd00::1]:/img,vers=4.2", "fd00::1", "/img", nil, ["vers=4.2,ro,nocto,actimeo=2592000"]),
            // Blank or empty option 17: none, so the kernel's default.
            ("", nil, "/tftpboot/cn7", "cn7", defaultRootAttempts),
            ("   ", nil, "/tftpboot/%s", nil, defaultRootAttempts),
        ] as [(String, String?, String, String?, [String])])
    func withTheLease(rootPath: String, server: String?, path: String, hostName: String?, options: [String]) throws {
        let plan = try BootPlanner.plan(
            BootInputs(
                commandLine: KernelCommandLine("root=/dev/nfs rd.overlay=0"), hostName: hostName, dhcpRootPath: rootPath
            ))
        #expect(!plan.root.awaitsDHCPRootPath)
        #expect(plan.root.syntax == "root=/dev/nfs")
        #expect(plan.root.server == server)
        #expect(plan.root.path == path)
        #expect(plan.root.hostnameSubstitution == path.contains("%s"))
        #expect(plan.root.attempts.map(\.options) == options)
        #expect(plan.root.dhcpRootPath == rootPath.trimmingASCIIWhitespace())
    }

    @Test func nfs4AndWaltKeepTheirVersions() throws {
        let v4 = try BootPlanner.plan(
            BootInputs(commandLine: KernelCommandLine("root=/dev/nfs4"), dhcpRootPath: "10.0.0.1:/img"))
        #expect(v4.root.versions == ["4.2", "4.1", "4.0"])
        #expect(v4.root.syntax == "root=/dev/nfs4")
        let walt = try BootPlanner.plan(
            BootInputs(commandLine: KernelCommandLine("root=/dev/nfs boot=walt"), dhcpRootPath: "10.0.0.1:/img"))
        #expect(walt.root.versions == ["3"])
    }

    @Test func nfsrootStillWinsAndDoesNotWait() throws {
        let plan = try BootPlanner.plan(
            BootInputs(commandLine: KernelCommandLine("root=/dev/nfs nfsroot=10.0.0.1:/export")))
        #expect(!plan.root.awaitsDHCPRootPath)
        #expect(plan.root.rootPathFallback == nil)
        #expect(plan.root.path == "/export")
    }

    @Test func aRootPathOfAnotherTypeIsRefused() {
        let error = #expect(throws: ParameterError.self) {
            try BootPlanner.plan(
                BootInputs(
                    commandLine: KernelCommandLine("root=/dev/nfs"), dhcpRootPath: "iscsi:@10.0.0.1::3260::iqn.x"))
        }
        #expect(error.map { "\($0)" }?.contains("not an NFS root (iscsi:)") == true)
    }
}

@Suite struct ClientAddressOptionTests {
    @Test(arguments: ["clientaddr=[2001:db8::1]", "clientaddr=node5", "clientaddr=", "clientaddr=10.0.0.300"])
    func badClientAddressesAreRefused(_ option: String) {
        let error = #expect(throws: ParameterError.self) {
            try BootPlanner.plan(BootInputs(commandLine: KernelCommandLine("root=nfs:10.0.0.1:/img:\(option)")))
        }
        #expect(error.map { "\($0)" }?.contains("clientaddr= needs an IPv4 or IPv6 address") == true)
    }
}
