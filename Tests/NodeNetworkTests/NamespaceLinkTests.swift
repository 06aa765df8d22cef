import Foundation
import TestSupport
import Testing

/// Host integration tests for `bond=`, `vlan=` and `bridge=`: `nodeinit network-up` builds the link inside a client
/// network namespace this test creates and gets a DHCP lease over it from dnsmasq in a server namespace (the same
/// veth harness as `NamespaceDHCPIntegrationTests`; only 10.99.0.0/24 inside those namespaces is used). Each test
/// needs its kind in the host kernel (`CONFIG_VLAN_8021Q`, `CONFIG_BONDING`, `CONFIG_BRIDGE`, built in or loadable)
/// and is skipped, saying so, when the kernel refuses to create one.
@Suite(
    .serialized, .enabled(if: NamespaceHarness.skipReason == nil, Comment(rawValue: NamespaceHarness.skipReason ?? "")))
struct NamespaceLinkTests {
    @Test(
        .timeLimit(.minutes(1)),
        .enabled(if: LinkSupport.missing("vlan") == nil, Comment(rawValue: LinkSupport.missing("vlan") ?? "")))
    func taggedVLANGetsALeaseFromDnsmasqOnTheTaggedSide() throws {
        let harness = try NamespaceHarness()
        defer { harness.cleanUp() }
        // The far side: VLAN 5 on the server's veth end, holding the served address; the untagged side holds none,
        // so only tagged frames are answered.
        let serverVLAN = harness.serverInterface + ".5"
        try harness.run(["ip", "-n", harness.serverNamespace, "addr", "flush", "dev", harness.serverInterface])
        try harness.run([
            "ip", "-n", harness.serverNamespace, "link", "add", "link", harness.serverInterface, "name", serverVLAN,
            "type", "vlan", "id", "5",
        ])
        try harness.run(["ip", "-n", harness.serverNamespace, "addr", "add", "10.99.0.1/24", "dev", serverVLAN])
        try harness.run(["ip", "-n", harness.serverNamespace, "link", "set", serverVLAN, "up"])
        try harness.startDnsmasq(interface: serverVLAN)

        // The near side: our code makes the VLAN (DEV_PLUS_VID_NO_PAD name) and runs DHCP on it.
        let clientVLAN = harness.clientInterface + ".5"
        let result = try harness.networkUp([
            "vlan=\(clientVLAN):\(harness.clientInterface)", "ip=\(clientVLAN):dhcp", "--timeout", "20",
        ])
        let lease = try #require(result["lease"] as? [String: Any])
        #expect(lease["interface"] as? String == clientVLAN)
        // A VLAN carries its parent's MAC, which dnsmasq pins to .42.
        #expect(lease["mac"] as? String == harness.clientMAC)
        #expect(lease["address"] as? String == "10.99.0.42")
        let details = try harness.run(["ip", "-n", harness.clientNamespace, "-d", "link", "show", "dev", clientVLAN])
        #expect(details.contains("vlan protocol 802.1Q id 5"))
        #expect(details.contains("@\(harness.clientInterface)"))
        let addresses = try harness.run(["ip", "-n", harness.clientNamespace, "-4", "-o", "addr", "show"])
        #expect(addresses.contains("\(clientVLAN)    inet 10.99.0.42/24"))
        #expect(!addresses.contains("\(harness.clientInterface)    inet"))
    }

    @Test(
        .timeLimit(.minutes(1)),
        .enabled(if: LinkSupport.missing("bridge") == nil, Comment(rawValue: LinkSupport.missing("bridge") ?? "")))
    func bridgeOverTheVethGetsALeaseWithThePortsMAC() throws {
        let harness = try NamespaceHarness()
        defer { harness.cleanUp() }
        try harness.startDnsmasq()
        let bridge = "nwbr\(harness.id.prefix(6))"
        let result = try harness.networkUp([
            "bridge=\(bridge):\(harness.clientInterface)", "ip=dhcp", "--timeout", "20",
        ])
        let lease = try #require(result["lease"] as? [String: Any])
        // ip=dhcp with a bridge planned means the bridge (the port carries no address).
        #expect(lease["interface"] as? String == bridge)
        #expect(lease["mac"] as? String == harness.clientMAC)
        #expect(lease["address"] as? String == "10.99.0.42")
        let port = try harness.run([
            "ip", "-n", harness.clientNamespace, "link", "show", "dev", harness.clientInterface,
        ])
        #expect(port.contains("master \(bridge)"))
        #expect(port.contains("state UP"))
        let delay = try harness.run([
            "ip", "netns", "exec", harness.clientNamespace, "cat", "/sys/class/net/\(bridge)/bridge/forward_delay",
        ])
        #expect(delay.trimmingCharacters(in: .whitespacesAndNewlines) == "0")

        // A second bring-up (the boot retries whole bring-ups) reuses the bridge.
        let again = try harness.networkUp([
            "bridge=\(bridge):\(harness.clientInterface)", "ip=\(bridge):dhcp", "--timeout", "10",
        ])
        #expect((again["lease"] as? [String: Any])?["source"] as? String == "existing")
    }

    @Test(
        .timeLimit(.minutes(1)),
        .enabled(if: LinkSupport.missing("bond") == nil, Comment(rawValue: LinkSupport.missing("bond") ?? "")))
    func activeBackupBondOverTwoVethsGetsALease() throws {
        let harness = try NamespaceHarness()
        defer { harness.cleanUp() }
        // A second pair; both server ends in one server-side bridge, which holds the served address.
        let server2 = "nwtest\(harness.id.prefix(6))t"
        let client2 = "nwtest\(harness.id.prefix(6))d"
        let serverBridge = "nwtest\(harness.id.prefix(6))b"
        try harness.run([
            "ip", "link", "add", server2, "netns", harness.serverNamespace, "type", "veth", "peer", "name", client2,
            "netns", harness.clientNamespace, "address", "02:99:00:00:00:2c",
        ])
        try harness.run(["ip", "-n", harness.serverNamespace, "addr", "flush", "dev", harness.serverInterface])
        try harness.run(["ip", "-n", harness.serverNamespace, "link", "add", serverBridge, "type", "bridge"])
        for port in [harness.serverInterface, server2] {
            try harness.run(["ip", "-n", harness.serverNamespace, "link", "set", port, "master", serverBridge])
            try harness.run(["ip", "-n", harness.serverNamespace, "link", "set", port, "up"])
        }
        try harness.run(["ip", "-n", harness.serverNamespace, "addr", "add", "10.99.0.1/24", "dev", serverBridge])
        try harness.run(["ip", "-n", harness.serverNamespace, "link", "set", serverBridge, "up"])
        try harness.startDnsmasq(interface: serverBridge)

        let bond = "nwbond\(harness.id.prefix(6))"
        let result = try harness.networkUp([
            "bond=\(bond):\(harness.clientInterface),\(client2):mode=active-backup,miimon=100,primary=\(client2)",
            "ip=\(bond):dhcp", "--timeout", "20",
        ])
        let lease = try #require(result["lease"] as? [String: Any])
        #expect(lease["interface"] as? String == bond)
        // The bond takes its first slave's MAC, which dnsmasq pins to .42.
        #expect(lease["mac"] as? String == harness.clientMAC)
        #expect(lease["address"] as? String == "10.99.0.42")
        let state = try harness.run([
            "ip", "netns", "exec", harness.clientNamespace, "cat", "/proc/net/bonding/\(bond)",
        ])
        #expect(state.contains("Bonding Mode: fault-tolerance (active-backup)"))
        #expect(state.contains("Primary Slave: \(client2)"))
        #expect(state.contains("MII Polling Interval (ms): 100"))
        #expect(state.contains("Slave Interface: \(harness.clientInterface)"))
        #expect(state.contains("Slave Interface: \(client2)"))
    }

    @Test(.timeLimit(.minutes(1)))
    func aSlaveThatNeverAppearsFailsClearly() throws {
        let harness = try NamespaceHarness()
        defer { harness.cleanUp() }
        let (status, _, errors) = try harness.runStatus([
            "/usr/sbin/ip", "netns", "exec", harness.clientNamespace, harness.nodeinit, "network-up",
            "bridge=nwbrmiss:nwtestabsent0", "--carrier-timeout", "1",
        ])
        #expect(status != 0)
        #expect(errors.contains("network: nwbrmiss needs nwtestabsent0, which did not appear within 1 s (links: lo"))
    }
}

/// Whether the host kernel creates links of a kind (probed once per kind in a scratch namespace).
enum LinkSupport {
    nonisolated(unsafe) static var cache: [String: String?] = [:]
    static let lock = NSLock()

    /// Nil when `kind` works, else why the test is skipped.
    static func missing(_ kind: String) -> String? {
        guard NamespaceHarness.skipReason == nil else { return NamespaceHarness.skipReason }
        lock.lock()
        defer { lock.unlock() }
        if let known = cache[kind] { return known }
        let namespace = "nwprobe-\(UInt32.random(in: 0...0xFFFF_FFFF))"
        var result: String? = nil
        let probe = NamespaceHarness.quietStatus
        if probe(["/usr/sbin/ip", "netns", "add", namespace]) != 0 {
            result = "cannot create a network namespace"
        } else {
            defer { _ = probe(["/usr/sbin/ip", "netns", "del", namespace]) }
            _ = probe(["/usr/sbin/ip", "-n", namespace, "link", "add", "p0", "type", "veth", "peer", "name", "p1"])
            let command: [String] =
                kind == "vlan"
                ? [
                    "/usr/sbin/ip", "-n", namespace, "link", "add", "link", "p0", "name", "p0.5", "type", "vlan", "id",
                    "5",
                ]
                : ["/usr/sbin/ip", "-n", namespace, "link", "add", "x0", "type", kind]
            if probe(command) != 0 {
                result =
                    "the host kernel cannot create \(kind) links (no CONFIG_\(kind == "vlan" ? "VLAN_8021Q" : kind == "bond" ? "BONDING" : "BRIDGE"))"
            }
        }
        cache[kind] = result
        return result
    }
}

extension NamespaceHarness {
    /// Runs a command with its output discarded and returns its exit status.
    static func quietStatus(_ arguments: [String]) -> Int32 {
        guard let pid = try? TestProcess.start(arguments, stdout: "/dev/null", stderr: "/dev/null") else { return -1 }
        return TestProcess.wait(pid)
    }
}
