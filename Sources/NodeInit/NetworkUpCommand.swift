import ArgumentParser
import Logging
import NodeNetwork
import NodeSys

/// `nodeinit network-up`: the init's network bring-up on its own, for admins and the host integration test.
/// Configures one interface (DHCP unless `--static`), optionally resolves names, and prints one JSON object:
/// `{"lease":{...},"resolved":{"name":["addr",...]},"resolvConf":"..."}`.
struct NetworkUpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "network-up",
        abstract: "Bring up a network interface like the init does (DHCP or static), print the lease as JSON.",
        shouldDisplay: false)

    @Option(help: "Interface name (default: the BOOTIF MAC's, else the first link with carrier).")
    var interface: String?

    @Option(help: "Choose the interface by MAC address (like BOOTIF=).")
    var mac: String?

    @Option(help: "Rename the link with MAC to NAME first, NAME:MAC (repeatable), like ifname=.")
    var ifname: [String] = []

    @Option(help: "Set this MAC address on the chosen interface before bringing it up.")
    var setMac: String?

    @Option(name: .customLong("static"), help: "Static address ADDRESS/PREFIX instead of DHCP.")
    var staticAddress: String?

    @Option(help: "Default gateway for --static.")
    var gateway: String?

    @Option(help: "Host name to send in DHCP (option 12) or to report for --static.")
    var hostname: String?

    @Option(help: "Extra DNS server (repeatable), like nameserver=.")
    var nameserver: [String] = []

    @Option(help: "Extra route NET/PREFIX[:GATEWAY] (repeatable), like rd.route=.")
    var route: [String] = []

    @Option(help: "Search domain for --resolve (repeatable; the DHCP domain is used too).")
    var search: [String] = []

    @Option(help: "Seconds for the DHCP exchange.")
    var timeout: Int = 30

    @Option(help: "Seconds to wait for the interface and its carrier.")
    var carrierTimeout: Int = 10

    @Option(help: "Name to resolve through the learned DNS servers (repeatable).")
    var resolve: [String] = []

    @Flag(help: "Log debug messages to stderr.")
    var verbose = false

    func run() throws {
        var log = Logger(label: "nodeinit.network", factory: { StreamLogHandler.standardError(label: $0) })
        log.logLevel = verbose ? .debug : .info

        var selection = InterfaceSelection(interfaceName: interface, carrierTimeout: .seconds(max(0, carrierTimeout)))
        if let mac {
            guard let parsed = MACAddress(mac) else { throw ValidationError("--mac '\(mac)' is not a MAC address") }
            selection.bootMAC = parsed
        }
        selection.renames = try ifname.map { text in
            let parts = text.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let mac = MACAddress(parts[1]) else { throw ValidationError("--ifname '\(text)' is not NAME:MAC") }
            return InterfaceRename(name: String(parts[0]), mac: mac)
        }
        if let setMac {
            guard let mac = MACAddress(setMac) else { throw ValidationError("--set-mac '\(setMac)' is not a MAC address") }
            selection.assignedMAC = mac
        }
        let servers = try nameserver.map { text in
            guard let address = IPAddress(text) else { throw ValidationError("--nameserver '\(text)' is not an IP address") }
            return address
        }
        let routes = try route.map(Self.parseRoute)
        let method: AddressingMethod
        if let staticAddress {
            let parts = staticAddress.split(separator: "/", maxSplits: 1)
            guard parts.count == 2, let address = IPv4Address(parts[0]), let prefix = Int(parts[1]), (1...32).contains(prefix)
            else { throw ValidationError("--static '\(staticAddress)' is not ADDRESS/PREFIX") }
            var gatewayAddress: IPv4Address?
            if let gateway {
                guard let parsed = IPv4Address(gateway) else { throw ValidationError("--gateway '\(gateway)' is not an IPv4 address") }
                gatewayAddress = parsed
            }
            method = .staticAddress(
                StaticIPv4Configuration(address: address, prefixLength: prefix, gateway: gatewayAddress, hostName: hostname))
        } else {
            method = .dhcp(hostName: hostname, timeout: .seconds(max(1, timeout)))
        }

        let lease: NetworkLease
        do {
            lease = try NetworkConfigurator.bringUp(
                selection: selection, method: method, extraRoutes: routes, nameservers: servers, log: log)
        } catch {
            log.error("\(error)")
            throw ExitCode.failure
        }

        let searchDomains = search + lease.searchDomains
        let resolver = Resolver(servers: lease.dnsServers, searchDomains: searchDomains)
        var resolved: [(String, [IPAddress])] = []
        var failed = false
        for name in resolve {
            do {
                resolved.append((name, try resolver.resolve(host: name, log: log)))
            } catch {
                log.error("\(error)")
                failed = true
            }
        }
        let resolvedJSON = resolved.map { name, addresses in
            JSONText.quoted(name) + ":[" + addresses.map { JSONText.quoted($0.description) }.joined(separator: ",") + "]"
        }.joined(separator: ",")
        let resolvConf = ResolvConf.render(servers: lease.dnsServers, searchDomains: searchDomains)
        print("{\"lease\":\(lease.json),\"resolved\":{\(resolvedJSON)},\"resolvConf\":\(JSONText.quoted(resolvConf))}")
        if failed { throw ExitCode.failure }
    }

    static func parseRoute(_ text: String) throws -> StaticRoute {
        let fields = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let network = fields[0].split(separator: "/", maxSplits: 1)
        guard network.count == 2, let destination = IPv4Address(network[0]), let prefix = Int(network[1]),
            (0...32).contains(prefix)
        else { throw ValidationError("--route '\(text)': expected NET/PREFIX[:GATEWAY]") }
        var gateway: IPv4Address?
        if fields.count == 2, !fields[1].isEmpty {
            guard let parsed = IPv4Address(fields[1]) else { throw ValidationError("--route '\(text)': bad gateway") }
            gateway = parsed
        }
        return StaticRoute(destination: destination, prefixLength: prefix, gateway: gateway)
    }
}
