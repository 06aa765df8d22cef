import NodeSys

/// Which interface to configure. The boot code maps `BOOTIF=`, `ifname=`/`netdev=`/`bootdev=`/`ip=<dev>` into this.
public struct InterfaceSelection: Sendable, Hashable, CustomStringConvertible {
    /// `BOOTIF=` (PXE's boot NIC): preferred over everything else.
    public var bootMAC: MACAddress?
    /// An interface name from `ifname=`, `netdev=`, `bootdev=` or the device field of `ip=`.
    public var interfaceName: String?
    /// How long to wait for the chosen link to appear and get carrier (dracut's `rd.net.timeout.carrier`, 10 s).
    public var carrierTimeout: Duration
    /// `ifname=<name>:<mac>`: links with these MACs are renamed before the interface is chosen.
    public var renames: [InterfaceRename]
    /// `ip=<if>:dhcp::<macaddr>`: hardware address to set on the chosen interface before it is brought up.
    public var assignedMAC: MACAddress?

    public init(
        bootMAC: MACAddress? = nil, interfaceName: String? = nil, carrierTimeout: Duration = .seconds(10),
        renames: [InterfaceRename] = [], assignedMAC: MACAddress? = nil
    ) {
        self.bootMAC = bootMAC
        self.interfaceName = interfaceName
        self.carrierTimeout = carrierTimeout
        self.renames = renames
        self.assignedMAC = assignedMAC
    }

    public var description: String {
        if let bootMAC { return "interface with mac \(bootMAC)" }
        if let interfaceName { return "interface \(interfaceName)" }
        return "first interface with carrier"
    }
}

/// dracut's `ifname=<name>:<mac>`.
public struct InterfaceRename: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var mac: MACAddress

    public init(name: String, mac: MACAddress) {
        self.name = name
        self.mac = mac
    }

    public var description: String { "\(name):\(mac)" }
}

/// A static IPv4 setup, from `ip=<client>:<peer>:<gw>:<mask>:<host>:<dev>:none[:mtu]...`.
public struct StaticIPv4Configuration: Sendable, Hashable {
    public var address: IPv4Address
    public var prefixLength: Int
    public var gateway: IPv4Address?
    /// The `<peer>` field: dracut's fallback NFS server.
    public var peer: IPv4Address?
    public var hostName: String?
    public var mtu: UInt32?
    public var dnsServers: [IPAddress]

    public init(
        address: IPv4Address, prefixLength: Int, gateway: IPv4Address? = nil, peer: IPv4Address? = nil,
        hostName: String? = nil, mtu: UInt32? = nil, dnsServers: [IPAddress] = []
    ) {
        self.address = address
        self.prefixLength = prefixLength
        self.gateway = gateway
        self.peer = peer
        self.hostName = hostName
        self.mtu = mtu
        self.dnsServers = dnsServers
    }
}

/// A `rd.route=<net>/<prefix>:<gateway>[:<interface>]` route.
public struct StaticRoute: Sendable, Hashable, CustomStringConvertible {
    public var destination: IPv4Address
    public var prefixLength: Int
    public var gateway: IPv4Address?
    /// When set, the route is added only if this is the configured interface.
    public var interfaceName: String?

    public init(destination: IPv4Address, prefixLength: Int, gateway: IPv4Address?, interfaceName: String? = nil) {
        self.destination = destination
        self.prefixLength = prefixLength
        self.gateway = gateway
        self.interfaceName = interfaceName
    }

    public var description: String {
        "\(destination)/\(prefixLength)" + (gateway.map { " via \($0)" } ?? "")
            + (interfaceName.map { " dev \($0)" } ?? "")
    }
}

/// How the interface gets its address.
public enum AddressingMethod: Sendable, Hashable {
    /// DHCPv4. `hostName` is sent as option 12; `timeout` bounds the whole exchange.
    case dhcp(hostName: String?, timeout: Duration)
    case staticAddress(StaticIPv4Configuration)
}
