import Testing

@testable import NodeSys

@Suite struct MountOptionsTests {
    @Test(arguments: [
        ("ro,vers=4.2,addr=10.0.2.2", "ro,vers=4.2,addr=10.0.2.2"),
        ("rw,,ro", "rw,ro"),
        ("size=50%,size=1g", "size=1g"),
        ("", ""),
        ("lowerdir=/a:/b,upperdir=/u", "lowerdir=/a:/b,upperdir=/u"),
    ])
    func parseAndRender(input: String, expected: String) {
        #expect(MountOptions(parsing: input).description == expected)
    }

    @Test func laterSettingsReplaceInPlace() {
        var options = MountOptions(parsing: "proto=tcp,rsize=4096")
        options.merge(MountOptions(parsing: "rsize=65536,nconnect=4"))
        options.set("addr", "10.0.0.1")
        options.remove("nconnect")
        #expect(options.description == "proto=tcp,rsize=65536,addr=10.0.0.1")
        #expect(options.value(of: "rsize") == .some("65536"))
        #expect(options.value(of: "missing") == nil)
    }

    @Test func mountDescriptionNamesEverything() {
        let mount = Mount(
            source: "10.0.2.2:/export", target: "/run/nodeinit/lower", fileSystemType: "nfs4", options: "ro,vers=4.2")
        #expect(mount.description == "10.0.2.2:/export on /run/nodeinit/lower type=nfs4 options=ro,vers=4.2")
    }

    @Test(arguments: [
        (UInt64(0), "    0.000000"), (1_234_567_890, "    1.234567"), (123_456_000_000_000, "123456.000000"),
    ])
    func timestampsLookLikePrintk(nanoseconds: UInt64, expected: String) {
        #expect(MonotonicInstant(nanoseconds: nanoseconds).description == expected)
    }
}
