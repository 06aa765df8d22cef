import BootConfig
import JSONCoding
import Logging
import NodeBoot
import NodeNetwork
import NodeSys

/// `nodeinit network-up`: the init's network bring-up on its own, for admins and the host integration test. It takes
/// the kernel's network parameters (`ip=`, `ifname=`, `BOOTIF=`, `nameserver=`, `rd.route=`, `rd.peerdns=`,
/// `bootdev=`, `bond=`, `vlan=`, `bridge=`), or options that stand for them, plans them with BootConfig and brings them
/// up through the boot's own network layer (`NodeNetworkBoot`), then prints one JSON object:
/// `{"lease":{...},"resolved":{"name":["addr",...]},"resolvConf":"..."}`.
public enum NetworkUpCommand: NodeCommand {
    public static let spec = CommandSpec(
        name: "network-up",
        abstract: "Bring up the network like the init does (DHCP or static), print the lease as JSON.",
        options: [
            .value(
                "--interface", "interface",
                help: "Interface name (default: the BOOTIF MAC's, else the first link with carrier); ip=...:<if>:..."),
            .value("--mac", "mac", help: "Choose the interface by MAC address (BOOTIF=)."),
            .value(
                "--ifname", "ifname", repeatable: true,
                help: "Rename the link with MAC to NAME first, NAME:MAC (repeatable; ifname=)."),
            .value(
                "--set-mac", "set-mac",
                help: "Set this MAC address on the chosen interface before bringing it up (ip=...:<mac>)."),
            .value("--static", "static", help: "Static address ADDRESS/PREFIX instead of DHCP."),
            .value("--gateway", "gateway", help: "Default gateway for --static."),
            .value("--hostname", "hostname", help: "Host name to send in DHCP (option 12) or to report for --static."),
            .value("--nameserver", "nameserver", repeatable: true, help: "Extra DNS server (repeatable; nameserver=)."),
            .value("--route", "route", repeatable: true, help: "Extra route NET/PREFIX:GATEWAY (repeatable; rd.route=)."),
            .value(
                "--search", "search", repeatable: true,
                help: "Search domain for --resolve (repeatable; the DHCP domain is used too)."),
            .value("--timeout", "timeout", help: "Seconds for the DHCP exchange.", default: "30"),
            .value("--carrier-timeout", "carrier-timeout", help: "Seconds to wait for the interface and its carrier.", default: "10"),
            .value(
                "--resolve", "resolve", repeatable: true,
                help: "Name to resolve through the learned DNS servers (repeatable)."),
            .flag("--verbose", help: "Log debug messages to stderr."),
        ],
        positionalUsage: "[<parameters> ...]   (kernel command-line network parameters, e.g. ip=eth0:dhcp)",
        maximumPositionals: Int.max)

    /// The options as the kernel parameters they stand for, after the given parameters.
    static func kernelParameters(_ arguments: ParsedArguments) throws(UsageError) -> [String] {
        var result = arguments.positionals
        if let mac = arguments.value("--mac") {
            guard let parsed = MACAddress(mac) else { throw arguments.invalid("--mac '\(mac)' is not a MAC address") }
            result.append("BOOTIF=01-" + parsed.description.split(separator: ":").joined(separator: "-"))
        }
        result += arguments.values("--ifname").map { "ifname=\($0)" }
        result += arguments.values("--nameserver").map { "nameserver=\($0)" }
        result += arguments.values("--route").map { "rd.route=\($0)" }
        let interface = arguments.value("--interface")
        let hostname = arguments.value("--hostname")
        let setMac = arguments.value("--set-mac")
        let device = interface ?? ""
        let macField = setMac.map { "::\($0)" } ?? ""
        if let staticAddress = arguments.value("--static") {
            let parts = staticAddress.split(separator: "/", maxSplits: 1)
            guard parts.count == 2 else { throw arguments.invalid("--static '\(staticAddress)' is not ADDRESS/PREFIX") }
            let gateway = arguments.value("--gateway") ?? ""
            result.append("ip=\(parts[0])::\(gateway):\(parts[1]):\(hostname ?? ""):\(device):none\(macField)")
        } else if interface != nil || hostname != nil || setMac != nil {
            result.append("ip=::::\(hostname ?? ""):\(device):dhcp\(macField)")
        }
        return result
    }

    public static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let timeout = try arguments.integer("--timeout", default: 30)
        let carrierTimeout = try arguments.integer("--carrier-timeout", default: 10)
        var log = Logger(label: "nodeinit.network", factory: { StreamLogHandler.standardError(label: $0) })
        log.logLevel = arguments.flag("--verbose") ? .debug : .info

        let network: NetworkPlan
        let parameters = try kernelParameters(arguments)
        do {
            let planned = try BootPlanner.planNetwork(KernelCommandLine(parameters.joined(separator: " ")))
            for warning in planned.warnings { log.warning("\(warning)") }
            network = planned.network
        } catch {
            throw arguments.invalid("\(error)")
        }

        var boot = NodeNetworkBoot()
        boot.dhcpTimeoutSeconds = Int64(max(1, timeout))
        boot.carrierTimeoutSeconds = Int64(max(0, carrierTimeout))
        var lease: BootLease
        do {
            lease = try boot.bringUp(plan: network, logger: log)
        } catch {
            log.error("\(error)")
            return 1
        }
        let search = arguments.values("--search")
        lease.searchDomains = search + lease.searchDomains.filter { !search.contains($0) }

        var resolved: [(String, [IPAddress])] = []
        var failed = false
        for name in arguments.values("--resolve") {
            do {
                resolved.append(
                    (
                        name,
                        try boot.resolve(
                            host: name, nameservers: lease.nameservers, searchDomains: lease.searchDomains, logger: log)
                    ))
            } catch {
                log.error("\(error)")
                failed = true
            }
        }
        let resolvedJSON = resolved.map { name, addresses in
            JSONText.quoted(name) + ":[" + addresses.map { JSONText.quoted($0.description) }.joined(separator: ",")
                + "]"
        }.joined(separator: ",")
        print(
            "{\"lease\":\(lease.boot.json),\"resolved\":{\(resolvedJSON)},\"resolvConf\":\(JSONText.quoted(lease.resolvConf))}"
        )
        return failed ? 1 : 0
    }
}
