import NodeSys
import Testing

@testable import NodeBoot

@Suite struct NFSRootMountTests {
    @Test(arguments: [
        (NFSVersion.v4_2, "nfs4", "proto=tcp,ro,vers=4.2,addr=10.0.2.2"),
        (.v4_1, "nfs4", "proto=tcp,ro,vers=4.1,addr=10.0.2.2"),
        (.v3, "nfs", "proto=tcp,mountproto=tcp,ro,vers=3,addr=10.0.2.2,nolock"),
    ])
    func optionsCarryAddressVersionAndLocking(version: NFSVersion, type: String, options: String) {
        let root = NFSRootMount(
            request: NFSRootRequest(server: "nfs.example", path: "/srv/image"), address: "10.0.2.2",
            target: "/run/nodeinit/lower")
        let mount = root.mount(version: version)
        #expect(mount.fileSystemType == type)
        #expect(mount.source == "10.0.2.2:/srv/image")
        #expect(mount.options.description == options)
    }

    @Test func userOptionsCannotOverrideWhatTheKernelNeeds() {
        let request = NFSRootRequest(
            server: "10.0.0.1", path: "/img", version: .v3,
            options: MountOptions(parsing: "rw,lock,vers=4,rsize=65536,addr=1.2.3.4,proto=udp"))
        let root = NFSRootMount(request: request, address: "10.0.0.1", target: "/lower")
        #expect(root.versions == [.v3])
        #expect(root.mount(version: .v3).options.description == "proto=udp,mountproto=tcp,rsize=65536,ro,vers=3,addr=10.0.0.1,nolock")
    }

    @Test func automaticVersionOrder() {
        let root = NFSRootMount(request: NFSRootRequest(server: "a", path: "/"), address: "fd00::1", target: "/l")
        #expect(root.versions == [.v4_2, .v4_1, .v3])
        #expect(root.mount(version: .v4_2).source == "[fd00::1]:/")
    }

    @Test(arguments: [
        ("10.0.2.2", true), ("255.255.255.255", true), ("256.1.1.1", false), ("10.0.2", false),
        ("cnfs", false), ("fd00::1", true), ("::ffff:10.0.0.1", true), ("nfs-1.example.org", false), ("1.2.3.4.5", false),
    ])
    func ipLiterals(text: String, isLiteral: Bool) {
        #expect(IPLiteral.isLiteral(text) == isLiteral)
    }

    @Test func overlayKeepsTheUpperAFaithfulDiff() {
        let overlay = OverlayRoot(request: OverlayRequest(size: "512m"))
        #expect(
            overlay.overlayMount.options.description
                == "lowerdir=/run/nodeinit/lower,upperdir=/run/nodeinit/overlay/upper,workdir=/run/nodeinit/overlay/work,"
                + "redirect_dir=off,metacopy=off,index=off,xino=off")
        #expect(overlay.tmpfsMount.options.description == "mode=0755,size=512m")
        #expect(OverlayRoot(request: OverlayRequest()).tmpfsMount.options.description == "mode=0755")
    }

    @Test func resolvConfListsServersAndSearch() {
        let state = NetworkState(interface: "eth0", address: "10.0.2.15", nameservers: ["10.0.2.3", "1.1.1.1"], searchDomains: ["cluster"])
        #expect(state.resolvConf == "# written by nodeinit from eth0\nsearch cluster\nnameserver 10.0.2.3\nnameserver 1.1.1.1\n")
    }
}
