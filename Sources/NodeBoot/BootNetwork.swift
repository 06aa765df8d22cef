import BootConfig
import Logging

/// What the network phase found out: the configured interface and what DHCP (or ip=) said.
public struct NetworkState: Sendable, Equatable {
    public var interface: String
    public var address: String
    public var gateway: String?
    public var nameservers: [String]
    public var searchDomains: [String]
    public var hostname: String?
    /// DHCP option 17.
    public var rootPath: String?
    /// DHCP next-server (siaddr), or the static ip= peer field.
    public var nextServer: String?
    /// DHCP server identifier (option 54).
    public var serverIdentifier: String?

    public init(
        interface: String, address: String, gateway: String? = nil, nameservers: [String] = [],
        searchDomains: [String] = [], hostname: String? = nil, rootPath: String? = nil, nextServer: String? = nil,
        serverIdentifier: String? = nil
    ) {
        self.interface = interface
        self.address = address
        self.gateway = gateway
        self.nameservers = nameservers
        self.searchDomains = searchDomains
        self.hostname = hostname
        self.rootPath = rootPath
        self.nextServer = nextServer
        self.serverIdentifier = serverIdentifier
    }

    /// /etc/resolv.conf text for the booted system (written to /run).
    public var resolvConf: String {
        var lines = ["# written by nodeinit from \(interface)"]
        if !searchDomains.isEmpty { lines.append("search " + searchDomains.joined(separator: " ")) }
        lines += nameservers.map { "nameserver \($0)" }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// The boot's view of the network layer: bring an interface up, resolve a name. The real one
/// drives NodeNetwork (NodeNetworkBoot); tests pass a fake.
public protocol BootNetwork: Sendable {
    /// Configures the network the plan asks for. One attempt: the caller retries until rd.retry.
    func bringUp(plan: NetworkPlan, logger: Logger) throws(BootFailure) -> NetworkState
    /// IP addresses for `host`, asking `nameservers`.
    func resolve(host: String, nameservers: [String], searchDomains: [String], logger: Logger) throws(BootFailure) -> [String]
}
