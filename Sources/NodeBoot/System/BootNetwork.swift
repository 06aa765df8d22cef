import BootConfig
import Logging
import NodeNetwork

/// What the network step learnt: the boot interface's lease (DHCP or static) and the resolver settings every later
/// step uses, typed as NodeNetwork gives them.
public struct BootLease: Sendable, Equatable {
    /// The boot interface: the root server, the DNS servers and the default route come from it.
    public var boot: NetworkLease
    /// The other configured `ip=` interfaces, in plan order.
    public var others: [NetworkLease]
    /// `nameserver=` and static `ip=` servers, then DHCP's (unless `rd.peerdns=0`), without duplicates.
    public var nameservers: [IPAddress]
    public var searchDomains: [String]

    public init(boot: NetworkLease, others: [NetworkLease] = [], nameservers: [IPAddress], searchDomains: [String]) {
        self.boot = boot
        self.others = others
        self.nameservers = nameservers
        self.searchDomains = searchDomains
    }

    /// The host name DHCP (option 12) or the `ip=` host field gave, nil when none or the kernel's `(none)`.
    public var hostName: String? {
        guard let name = boot.hostName, !name.isEmpty, name != "(none)" else { return nil }
        return name
    }

    /// resolv.conf for the booted system.
    public var resolvConf: String { ResolvConf.render(servers: nameservers, searchDomains: searchDomains) }
}

/// The boot's view of the network layer: bring the planned interfaces up, resolve a name. The real one drives
/// NodeNetwork (`NodeNetworkBoot`); tests pass a fake.
public protocol BootNetwork: Sendable {
    /// Configures the network the plan asks for. One attempt: the network step retries until rd.retry.
    func bringUp(plan: NetworkPlan, logger: Logger) throws(BootFailure) -> BootLease
    /// IP addresses for `host`, asking `nameservers`.
    func resolve(host: String, nameservers: [IPAddress], searchDomains: [String], logger: Logger) throws(BootFailure)
        -> [IPAddress]
}
