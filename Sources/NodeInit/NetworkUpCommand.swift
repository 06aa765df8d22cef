import ArgumentParser
import BootConfig
import Logging
import NodeBoot
import NodeNetwork
import NodeSys

/// `nodeinit network-up`: the init's network bring-up on its own, for admins and the host integration test. It takes
/// the kernel's network parameters (`ip=`, `ifname=`, `BOOTIF=`, `nameserver=`, `rd.route=`, `rd.peerdns=`,
/// `bootdev=`), or flags that stand for them, plans them with BootConfig and brings them up through the boot's own
/// network layer (`NodeNetworkBoot`), then prints one JSON object:
/// `{"lease":{...},"resolved":{"name":["addr",...]},"resolvConf":"..."}`.
struct NetworkUpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "network-up",
        abstract: "Bring up the network like the init does (DHCP or static), print the lease as JSON.",
        shouldDisplay: false)

    @Argument(help: "Kernel command-line network parameters, e.g. ip=eth0:dhcp ifname=boot0:52:54:00:12:34:56.")
    var parameters: [String] = []

    @Option(help: "Interface name (default: the BOOTIF MAC's, else the first link with carrier); ip=...:<if>:...")
    var interface: String?

    @Option(help: "Choose the interface by MAC address (BOOTIF=).")
    var mac: String?

    @Option(help: "Rename the link with MAC to NAME first, NAME:MAC (repeatable; ifname=).")
    var ifname: [String] = []

    @Option(help: "Set this MAC address on the chosen interface before bringing it up (ip=...:<mac>).")
    var setMac: String?

    @Option(name: .customLong("static"), help: "Static address ADDRESS/PREFIX instead of DHCP.")
    var staticAddress: String?

    @Option(help: "Default gateway for --static.")
    var gateway: String?

    @Option(help: "Host name to send in DHCP (option 12) or to report for --static.")
    var hostname: String?

    @Option(help: "Extra DNS server (repeatable; nameserver=).")
    var nameserver: [String] = []

    @Option(help: "Extra route NET/PREFIX:GATEWAY (repeatable; rd.route=).")
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

    /// The flags as the kernel parameters they stand for, after the given parameters.
    func kernelParameters() throws -> [String] {
        var result = parameters
        if let mac {
            guard let parsed = MACAddress(mac) else { throw ValidationError("--mac '\(mac)' is not a MAC address") }
            result.append("BOOTIF=01-" + parsed.description.split(separator: ":").joined(separator: "-"))
        }
        result += ifname.map { "ifname=\($0)" }
        result += nameserver.map { "nameserver=\($0)" }
        result += route.map { "rd.route=\($0)" }
        let device = interface ?? ""
        let macField = setMac.map { "::\($0)" } ?? ""
        if let staticAddress {
            let parts = staticAddress.split(separator: "/", maxSplits: 1)
            guard parts.count == 2 else { throw ValidationError("--static '\(staticAddress)' is not ADDRESS/PREFIX") }
            result.append("ip=\(parts[0])::\(gateway ?? ""):\(parts[1]):\(hostname ?? ""):\(device):none\(macField)")
        } else if interface != nil || hostname != nil || setMac != nil {
            result.append("ip=::::\(hostname ?? ""):\(device):dhcp\(macField)")
        }
        return result
    }

    func run() throws {
        var log = Logger(label: "nodeinit.network", factory: { StreamLogHandler.standardError(label: $0) })
        log.logLevel = verbose ? .debug : .info

        let network: NetworkPlan
        do {
            let planned = try BootPlanner.planNetwork(KernelCommandLine(try kernelParameters().joined(separator: " ")))
            for warning in planned.warnings { log.warning("\(warning)") }
            network = planned.network
        } catch let error as ValidationError {
            throw error
        } catch {
            throw ValidationError("\(error)")
        }

        var boot = NodeNetworkBoot()
        boot.dhcpTimeoutSeconds = Int64(max(1, timeout))
        boot.carrierTimeoutSeconds = Int64(max(0, carrierTimeout))
        var lease: BootLease
        do {
            lease = try boot.bringUp(plan: network, logger: log)
        } catch {
            log.error("\(error)")
            throw ExitCode.failure
        }
        lease.searchDomains = search + lease.searchDomains.filter { !search.contains($0) }

        var resolved: [(String, [IPAddress])] = []
        var failed = false
        for name in resolve {
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
        if failed { throw ExitCode.failure }
    }
}
