import JSONCoding
import NodeSys

/// The result of bringing the network up: what the node is now configured with.
public struct NetworkLease: Sendable, Hashable {
    public enum Source: String, Sendable {
        case dhcp
        case staticConfiguration = "static"
        /// The interface already had an IPv4 address (kernel `ip=` autoconfiguration); nothing was changed.
        case existing
    }

    public var source: Source
    public var interfaceName: String
    public var interfaceIndex: Int32
    public var macAddress: MACAddress?
    public var address: IPv4Address
    public var prefixLength: Int
    public var gateway: IPv4Address?
    public var dnsServers: [IPAddress]
    public var hostName: String?
    public var domainName: String?
    /// DHCP option 119 (domain search), else the domain name: the search list for resolv.conf and the resolver.
    public var searchDomains: [String]
    /// DHCP option 17.
    public var rootPath: String?
    /// DHCP `siaddr`, or the static `<peer>`.
    public var nextServer: IPv4Address?
    public var serverIdentifier: IPv4Address?
    public var mtu: UInt32?
    public var leaseSeconds: UInt32?
    /// Routes besides the default one: DHCP option 121 (classless static routes) without its default entry.
    /// `rd.route=` routes are applied too but not listed here.
    public var routes: [StaticRoute]

    public init(
        source: Source, interfaceName: String, interfaceIndex: Int32, macAddress: MACAddress?, address: IPv4Address,
        prefixLength: Int, gateway: IPv4Address? = nil, dnsServers: [IPAddress] = [], hostName: String? = nil,
        domainName: String? = nil, rootPath: String? = nil, nextServer: IPv4Address? = nil,
        serverIdentifier: IPv4Address? = nil, mtu: UInt32? = nil, leaseSeconds: UInt32? = nil,
        routes: [StaticRoute] = [],
        searchDomains: [String]? = nil
    ) {
        self.searchDomains = searchDomains ?? [domainName].compactMap { $0 }
        self.routes = routes
        self.source = source
        self.interfaceName = interfaceName
        self.interfaceIndex = interfaceIndex
        self.macAddress = macAddress
        self.address = address
        self.prefixLength = prefixLength
        self.gateway = gateway
        self.dnsServers = dnsServers
        self.hostName = hostName
        self.domainName = domainName
        self.rootPath = rootPath
        self.nextServer = nextServer
        self.serverIdentifier = serverIdentifier
        self.mtu = mtu
        self.leaseSeconds = leaseSeconds
    }

    /// One JSON object (keys in a fixed order, absent values as null) for logs, boot.json and `nodeinit network-up`.
    public var json: String {
        var fields: [(String, String)] = []
        fields.append(("source", JSONText.quoted(source.rawValue)))
        fields.append(("interface", JSONText.quoted(interfaceName)))
        fields.append(("index", String(interfaceIndex)))
        fields.append(("mac", JSONText.optional(macAddress?.description)))
        fields.append(("address", JSONText.quoted(address.description)))
        fields.append(("prefixLength", String(prefixLength)))
        fields.append(("gateway", JSONText.optional(gateway?.description)))
        fields.append(
            ("dnsServers", "[" + dnsServers.map { JSONText.quoted($0.description) }.joined(separator: ",") + "]"))
        fields.append(("hostName", JSONText.optional(hostName)))
        fields.append(("domainName", JSONText.optional(domainName)))
        fields.append(("searchDomains", "[" + searchDomains.map { JSONText.quoted($0) }.joined(separator: ",") + "]"))
        fields.append(("rootPath", JSONText.optional(rootPath)))
        fields.append(("nextServer", JSONText.optional(nextServer?.description)))
        fields.append(("serverIdentifier", JSONText.optional(serverIdentifier?.description)))
        fields.append(("mtu", mtu.map { String($0) } ?? "null"))
        fields.append(("leaseSeconds", leaseSeconds.map { String($0) } ?? "null"))
        fields.append(("routes", "[" + routes.map { JSONText.quoted($0.description) }.joined(separator: ",") + "]"))
        return "{" + fields.map { JSONText.quoted($0.0) + ":" + $0.1 }.joined(separator: ",") + "}"
    }
}
