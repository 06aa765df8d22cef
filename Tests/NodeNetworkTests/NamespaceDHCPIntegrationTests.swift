import Foundation
import TestSupport
import Testing

/// Host integration test: a veth pair between two network namespaces this test creates, dnsmasq serving DHCP and
/// DNS in one, `nodeinit network-up` (DHCP client + rtnetlink + resolver) in the other. Only addresses inside those
/// namespaces (10.99.0.0/24) are used; the host's interfaces are never touched.
@Suite(
    .serialized, .enabled(if: NamespaceHarness.skipReason == nil, Comment(rawValue: NamespaceHarness.skipReason ?? "")))
struct NamespaceDHCPIntegrationTests {
    @Test(.timeLimit(.minutes(1))) func dhcpThenDNSThenStaticInNamespaces() throws {
        let harness = try NamespaceHarness()
        defer { harness.cleanUp() }
        try harness.startDnsmasq()

        // 1. DHCP: dnsmasq's dhcp-host pins the client's MAC to 10.99.0.42 and names it.
        let dhcp = try harness.networkUp([
            "--interface", harness.clientInterface, "--hostname", "nwnode",
            "--resolve", "cnfs.test", "--resolve", "state.test", "--timeout", "20",
        ])
        let lease = try #require(dhcp["lease"] as? [String: Any])
        #expect(lease["source"] as? String == "dhcp")
        #expect(lease["address"] as? String == "10.99.0.42")
        #expect(lease["prefixLength"] as? Int == 24)
        #expect(lease["gateway"] as? String == "10.99.0.1")
        #expect(lease["dnsServers"] as? [String] == ["10.99.0.1"])
        #expect(lease["rootPath"] as? String == "/srv/root")
        #expect(lease["nextServer"] as? String == "10.99.0.1")
        #expect(lease["domainName"] as? String == "cluster.test")
        #expect(lease["hostName"] as? String == "nwnode")
        #expect(lease["mtu"] as? Int == 1400)
        let resolved = try #require(dhcp["resolved"] as? [String: [String]])
        #expect(resolved["cnfs.test"] == ["10.99.0.5"])
        #expect(resolved["state.test"] == ["10.99.0.6"])  // a CNAME to storage.test
        #expect(lease["searchDomains"] as? [String] == ["cluster.test", "lab.test"])  // option 119
        #expect(
            (dhcp["resolvConf"] as? String)?.contains("nameserver 10.99.0.1\nsearch cluster.test lab.test\n") == true)

        // What the kernel now holds, read back with iproute2 (independent of our netlink parser).
        let addresses = try harness.run([
            "ip", "-n", harness.clientNamespace, "-4", "-o", "addr", "show", "dev", harness.clientInterface,
        ])
        #expect(addresses.contains("inet 10.99.0.42/24"))
        let routes = try harness.run(["ip", "-n", harness.clientNamespace, "-4", "route", "show"])
        #expect(routes.contains("default via 10.99.0.1 dev \(harness.clientInterface)"))
        #expect(routes.contains("192.168.88.0/24 via 10.99.0.254 dev \(harness.clientInterface)"))  // option 121
        #expect(lease["routes"] as? [String] == ["192.168.88.0/24 via 10.99.0.254"])
        let link = try harness.run([
            "ip", "-n", harness.clientNamespace, "link", "show", "dev", harness.clientInterface,
        ])
        #expect(link.contains("mtu 1400"))

        // 2. Already configured: left alone and reported.
        let again = try harness.networkUp(["--interface", harness.clientInterface, "--timeout", "5"])
        #expect((again["lease"] as? [String: Any])?["source"] as? String == "existing")
        #expect((again["lease"] as? [String: Any])?["address"] as? String == "10.99.0.42")
        #expect((again["lease"] as? [String: Any])?["gateway"] as? String == "10.99.0.1")

        // 3. Static, with an rd.route-style route, a nameserver= server and a short name through the search list.
        _ = try harness.run(["ip", "-n", harness.clientNamespace, "addr", "flush", "dev", harness.clientInterface])
        let staticResult = try harness.networkUp([
            "--mac", harness.clientMAC, "--static", "10.99.0.77/24", "--gateway", "10.99.0.1",
            "--route", "192.168.77.0/24:10.99.0.254", "--nameserver", "10.99.0.1", "--search", "cluster.test",
            "--resolve", "storage",
        ])
        let staticLease = try #require(staticResult["lease"] as? [String: Any])
        #expect(staticLease["source"] as? String == "static")
        #expect(staticLease["interface"] as? String == harness.clientInterface)
        #expect((staticResult["resolved"] as? [String: [String]])?["storage"] == ["10.99.0.6"])
        let staticRoutes = try harness.run(["ip", "-n", harness.clientNamespace, "-4", "route", "show"])
        #expect(staticRoutes.contains("192.168.77.0/24 via 10.99.0.254 dev \(harness.clientInterface)"))
        #expect(staticRoutes.contains("default via 10.99.0.1"))
    }

    @Test(.timeLimit(.minutes(1))) func dhcpMovesOnFromASilentInterfaceWithCarrier() throws {
        let harness = try NamespaceHarness(silentPairFirst: true)
        defer { harness.cleanUp() }
        try harness.startDnsmasq()
        // No interface named: the silent link comes first, gets its share of the 6 s, then the served one answers.
        let result = try harness.networkUp(["--timeout", "6"])
        let lease = try #require(result["lease"] as? [String: Any])
        #expect(lease["interface"] as? String == harness.clientInterface)
        #expect(lease["address"] as? String == "10.99.0.42")
    }

    @Test(.timeLimit(.minutes(1))) func ifnameRenameAndAssignedMAC() throws {
        let harness = try NamespaceHarness()
        defer { harness.cleanUp() }
        try harness.startDnsmasq()
        // ifname=: the link with the client MAC becomes nwtestboot0 and is then chosen by that name; dnsmasq still
        // recognises the MAC (10.99.0.42).
        let renamed = try harness.networkUp([
            "--ifname", "nwtestboot0:\(harness.clientMAC)", "--interface", "nwtestboot0", "--timeout", "10",
        ])
        #expect((renamed["lease"] as? [String: Any])?["interface"] as? String == "nwtestboot0")
        #expect((renamed["lease"] as? [String: Any])?["address"] as? String == "10.99.0.42")
        _ = try harness.run(["ip", "-n", harness.clientNamespace, "addr", "flush", "dev", "nwtestboot0"])

        // ip=<if>:dhcp::<mac>: a new MAC on the link, so dnsmasq hands out a pool address instead.
        let moved = try harness.networkUp([
            "--interface", "nwtestboot0", "--set-mac", "02:99:00:00:00:2b", "--timeout", "10",
        ])
        let lease = try #require(moved["lease"] as? [String: Any])
        #expect(lease["mac"] as? String == "02:99:00:00:00:2b")
        #expect((lease["address"] as? String)?.hasPrefix("10.99.0.") == true)
        #expect(lease["address"] as? String != "10.99.0.42")
        let link = try harness.run(["ip", "-n", harness.clientNamespace, "link", "show", "dev", "nwtestboot0"])
        #expect(link.contains("link/ether 02:99:00:00:00:2b"))
    }

    @Test(.timeLimit(.minutes(1))) func silentNetworkFailsWithinTheTimeout() throws {
        let harness = try NamespaceHarness()
        defer { harness.cleanUp() }
        // No dnsmasq: the client must give up after its timeout with a clear message and a failure status.
        let start = Date()
        let (status, output, errors) = try harness.runStatus(
            [
                "/usr/sbin/ip", "netns", "exec", harness.clientNamespace, harness.nodeinit, "network-up", "--interface",
                harness.clientInterface, "--timeout", "3",
            ])
        #expect(status != 0)
        #expect(output.isEmpty)
        #expect(errors.contains("dhcp on \(harness.clientInterface): no DHCPOFFER after"))
        #expect(Date().timeIntervalSince(start) < 10)

        // A named interface that does not exist: a clear error after the carrier bound.
        let (missingStatus, _, missingErrors) = try harness.runStatus(
            [
                "/usr/sbin/ip", "netns", "exec", harness.clientNamespace, harness.nodeinit, "network-up", "--interface",
                "nwtestnone", "--carrier-timeout", "1",
            ])
        #expect(missingStatus != 0)
        #expect(missingErrors.contains("network: no interface nwtestnone after 1 s (links: lo"))

        // A route the kernel refuses (its gateway is the subnet broadcast address): the error names it, and the address added
        // before it is taken away again so that a retry starts clean.
        let (routeStatus, _, routeErrors) = try harness.runStatus(
            [
                "/usr/sbin/ip", "netns", "exec", harness.clientNamespace, harness.nodeinit, "network-up", "--interface",
                harness.clientInterface, "--static", "10.99.0.77/24", "--route", "192.168.5.0/24:10.99.0.255",
            ])
        #expect(routeStatus != 0)
        #expect(
            routeErrors.contains(
                "network: add route 192.168.5.0/24 via 10.99.0.255 on \(harness.clientInterface): netlink:"))
        let left = try harness.run([
            "ip", "-n", harness.clientNamespace, "-4", "-o", "addr", "show", "dev", harness.clientInterface,
        ])
        #expect(!left.contains("10.99.0.77"))
    }

    /// The IPv6 link-local address is on the link while it still waits for carrier (NetworkConfigurator adds it
    /// early so that the multicast join it causes happens then), and it is the one the kernel makes itself: the
    /// bring-up leaves exactly one, and a down/up with carrier, where the kernel makes it, gives the same.
    @Test(.timeLimit(.minutes(1))) func linkLocalIsAddedBeforeCarrierAndIsTheKernelsOwn() throws {
        let harness = try NamespaceHarness()
        defer { harness.cleanUp() }
        try harness.startDnsmasq()
        // No carrier on the client end until the server end is up again.
        try harness.run(["ip", "-n", harness.serverNamespace, "link", "set", harness.serverInterface, "down"])
        let clientLinkLocal = "fe80::99:ff:fe00:2a/64"  // from the MAC 02:99:00:00:00:2a (RFC 4291 appendix A)
        func clientIPv6() throws -> String {
            try harness.run([
                "ip", "-n", harness.clientNamespace, "-6", "-o", "addr", "show", "dev", harness.clientInterface,
            ])
        }
        let finished = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var outcome: Result<[String: Any], any Error>?
        // The main thread only reads the harness's names while the bring-up runs.
        nonisolated(unsafe) let background = harness
        Thread.detachNewThread {
            outcome = Result {
                try background.networkUp(["--interface", background.clientInterface, "--timeout", "20"])
            }
            finished.signal()
        }
        var seenWithoutCarrier = false
        for _ in 0..<100 {
            let link = try harness.run(["ip", "-n", harness.clientNamespace, "link", "show", harness.clientInterface])
            if link.contains("NO-CARRIER"), link.contains(",UP"), try clientIPv6().contains(clientLinkLocal) {
                seenWithoutCarrier = true
                break
            }
            usleep(50_000)
        }
        try harness.run(["ip", "-n", harness.serverNamespace, "link", "set", harness.serverInterface, "up"])
        finished.wait()
        let whenCarrierCame = try clientIPv6()
        #expect(seenWithoutCarrier, "\(whenCarrierCame)")
        let lease = try #require(try outcome?.get()["lease"] as? [String: Any])
        #expect(lease["address"] as? String == "10.99.0.42")
        let afterBringUp = try clientIPv6()
        #expect(afterBringUp.components(separatedBy: "inet6 fe80").count == 2, "\(afterBringUp)")
        #expect(afterBringUp.contains(clientLinkLocal))
        #expect(!afterBringUp.contains("dadfailed"))

        // What the kernel makes when carrier comes with the link: the same address.
        try harness.run(["ip", "-n", harness.clientNamespace, "link", "set", harness.clientInterface, "down"])
        #expect(!(try clientIPv6()).contains("fe80"))
        try harness.run(["ip", "-n", harness.clientNamespace, "link", "set", harness.clientInterface, "up"])
        let kernels = try clientIPv6()
        #expect(kernels.components(separatedBy: "inet6 fe80").count == 2, "\(kernels)")
        #expect(kernels.contains(clientLinkLocal), "\(kernels)")
    }
}

/// Creates `nwtest-<id>-srv`/`nwtest-<id>-cli` namespaces joined by a veth pair, runs dnsmasq, and removes it all.
final class NamespaceHarness {
    static let nodeinitPath: String? = {
        // The test bundle sits next to the products of the same build (`.build/<triple>/debug/`).
        guard let bundle = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
            return nil
        }
        let candidate = URL(fileURLWithPath: bundle).deletingLastPathComponent().appendingPathComponent("nodeinit").path
        return FileManager.default.isExecutableFile(atPath: candidate) ? candidate : nil
    }()

    static let skipReason: String? = {
        if getuid() != 0 { return "needs root to create network namespaces" }
        for tool in ["/usr/sbin/ip", "/usr/sbin/dnsmasq"] where !FileManager.default.isExecutableFile(atPath: tool) {
            return "\(tool) is missing (iproute2, dnsmasq-base)"
        }
        if nodeinitPath == nil {
            return "the nodeinit executable is not built next to the tests (swift build --build-tests)"
        }
        return nil
    }()

    let id = String(UInt32.random(in: 0...0xFFFF_FFFF), radix: 16)
    var serverNamespace: String { "nwtest-\(id)-srv" }
    var clientNamespace: String { "nwtest-\(id)-cli" }
    var serverInterface: String { "nwtest\(id.prefix(6))s" }
    var clientInterface: String { "nwtest\(id.prefix(6))c" }
    let clientMAC = "02:99:00:00:00:2a"
    let nodeinit: String
    let directory: URL
    var dnsmasqPID: pid_t?

    var silentClientInterface: String { "nwtest\(id.prefix(6))q" }

    /// With `silentPairFirst`, a second veth pair whose server end is up but unserved is created before the served
    /// one, so the client sees it first (lower index) with carrier.
    init(silentPairFirst: Bool = false) throws {
        nodeinit = NamespaceHarness.nodeinitPath ?? "nodeinit"
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("nwtest-\(id)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        do {
            _ = try run(["ip", "netns", "add", serverNamespace])
            _ = try run(["ip", "netns", "add", clientNamespace])
            if silentPairFirst {
                _ = try run([
                    "ip", "link", "add", "nwtest\(id.prefix(6))p", "netns", serverNamespace, "type", "veth", "peer",
                    "name",
                    silentClientInterface, "netns", clientNamespace,
                ])
                _ = try run(["ip", "-n", serverNamespace, "link", "set", "nwtest\(id.prefix(6))p", "up"])
            }
            _ = try run([
                "ip", "link", "add", serverInterface, "netns", serverNamespace, "type", "veth", "peer", "name",
                clientInterface, "netns", clientNamespace, "address", clientMAC,
            ])
            _ = try run(["ip", "-n", serverNamespace, "addr", "add", "10.99.0.1/24", "dev", serverInterface])
            _ = try run(["ip", "-n", serverNamespace, "link", "set", serverInterface, "up"])
            _ = try run(["ip", "-n", serverNamespace, "link", "set", "lo", "up"])
        } catch {
            cleanUp()
            throw error
        }
    }

    /// dnsmasq on `interface` (default: the server end of the veth pair).
    func startDnsmasq(interface: String? = nil) throws {
        let log = directory.appendingPathComponent("dnsmasq.log").path
        // `ip netns exec` execs dnsmasq, so the spawned pid is dnsmasq's own.
        dnsmasqPID = try TestProcess.start(
            [
                "/usr/sbin/ip", "netns", "exec", serverNamespace, "/usr/sbin/dnsmasq", "--no-daemon",
                "--conf-file=/dev/null",
                "--interface=\(interface ?? serverInterface)", "--bind-interfaces", "--no-resolv", "--no-hosts",
                "--no-ping",
                "--dhcp-range=10.99.0.50,10.99.0.99,255.255.255.0,1h", "--dhcp-host=\(clientMAC),10.99.0.42,nwnode",
                "--dhcp-option=option:router,10.99.0.1", "--dhcp-option=option:dns-server,10.99.0.1",
                "--dhcp-option=option:domain-name,cluster.test", "--dhcp-option=option:mtu,1400",
                "--dhcp-option=option:domain-search,cluster.test,lab.test",
                "--dhcp-option=17,/srv/root", "--address=/cnfs.test/10.99.0.5",
                "--dhcp-option=121,192.168.88.0/24,10.99.0.254,0.0.0.0/0,10.99.0.1",
                "--host-record=storage.test,storage.cluster.test,10.99.0.6", "--cname=state.test,storage.test",
                "--port=53",
                "--pid-file=\(directory.appendingPathComponent("dnsmasq.pid").path)",
                "--dhcp-leasefile=\(directory.appendingPathComponent("leases").path)", "--log-dhcp",
            ], stdout: "/dev/null", stderr: log)
        // Ready once it has bound its DHCP socket (it logs that after binding).
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: log, encoding: .utf8), text.contains("DHCP, sockets bound") {
                return
            }
            usleep(50_000)
        }
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        throw HarnessError(message: "dnsmasq did not start: \(text)")
    }

    /// Runs `nodeinit network-up` in the client namespace and parses its JSON output.
    func networkUp(_ arguments: [String]) throws -> [String: Any] {
        let (status, output, errors) = try runStatus(
            ["/usr/sbin/ip", "netns", "exec", clientNamespace, nodeinit, "network-up"] + arguments)
        guard status == 0, let data = output.data(using: .utf8),
            let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        else {
            let log = (try? String(contentsOf: directory.appendingPathComponent("dnsmasq.log"), encoding: .utf8)) ?? ""
            throw HarnessError(
                message: "network-up \(arguments) exited \(status): \(output)\n\(errors)\ndnsmasq:\n\(log)")
        }
        return object
    }

    @discardableResult
    func run(_ arguments: [String]) throws -> String {
        let (status, output, errors) = try runStatus(arguments)
        guard status == 0 else {
            throw HarnessError(message: "\(arguments.joined(separator: " ")) exited \(status): \(errors)")
        }
        return output
    }

    /// Runs a command to completion with its output captured in files (no pipes, nothing to deadlock on).
    func runStatus(_ arguments: [String]) throws -> (Int32, String, String) {
        var command = arguments
        if command.first == "ip" { command[0] = "/usr/sbin/ip" }
        let outputPath = directory.appendingPathComponent("out-\(UInt32.random(in: 0...UInt32.max))").path
        let errorPath = outputPath + ".err"
        defer {
            unlink(outputPath)
            unlink(errorPath)
        }
        let pid = try TestProcess.start(command, stdout: outputPath, stderr: errorPath)
        let status = TestProcess.wait(pid)
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        let errors = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
        return (status, output, errors)
    }

    /// Stops dnsmasq by pid and deletes both namespaces (which deletes the veth pair) and the temp directory.
    func cleanUp() {
        if let dnsmasqPID {
            TestProcess.stop(dnsmasqPID)
            self.dnsmasqPID = nil
        }
        _ = try? runStatus(["/usr/sbin/ip", "netns", "del", clientNamespace])
        _ = try? runStatus(["/usr/sbin/ip", "netns", "del", serverNamespace])
        try? FileManager.default.removeItem(at: directory)
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
