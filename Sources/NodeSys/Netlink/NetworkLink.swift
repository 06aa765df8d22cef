/// A network interface as RTM_NEWLINK describes it.
public struct NetworkLink: Sendable, Hashable, CustomStringConvertible {
    /// IF_OPER_* from RFC 2863, as the kernel reports it in IFLA_OPERSTATE.
    public enum OperationalState: UInt8, Sendable {
        case unknown = 0, notPresent = 1, down = 2, lowerLayerDown = 3, testing = 4, dormant = 5, up = 6
    }

    public var index: Int32
    public var name: String
    public var macAddress: MACAddress?
    public var flags: UInt32
    public var mtu: UInt32?
    public var operationalState: OperationalState
    /// IFLA_CARRIER when the kernel sent it.
    public var carrier: Bool?
    /// IFLA_MASTER: the bond or bridge this link is enslaved to.
    public var masterIndex: Int32?
    /// IFLA_INFO_KIND (`bond`, `vlan`, `bridge`, `veth`...); nil for plain hardware.
    public var kind: String?

    public init(
        index: Int32, name: String, macAddress: MACAddress?, flags: UInt32, mtu: UInt32?,
        operationalState: OperationalState, carrier: Bool?, masterIndex: Int32? = nil, kind: String? = nil
    ) {
        self.index = index
        self.name = name
        self.macAddress = macAddress
        self.flags = flags
        self.mtu = mtu
        self.operationalState = operationalState
        self.carrier = carrier
        self.masterIndex = masterIndex
        self.kind = kind
    }

    public var isUp: Bool { flags & NetlinkConstants.interfaceUp != 0 }
    public var isLoopback: Bool { flags & NetlinkConstants.interfaceLoopback != 0 }
    /// Carrier present: IFF_LOWER_UP, or IFLA_CARRIER when the driver reports it.
    public var hasCarrier: Bool { carrier ?? (flags & NetlinkConstants.interfaceLowerUp != 0) }

    public var description: String {
        "\(name) (index \(index), mac \(macAddress?.description ?? "none"), \(isUp ? "up" : "down"), "
            + "carrier \(hasCarrier ? "yes" : "no"), operstate \(operationalState))"
    }

    /// Decodes an RTM_NEWLINK payload (`struct ifinfomsg` + attributes); nil when the fixed header is short.
    public static func parse(payload: [UInt8]) -> NetworkLink? {
        let reader = NetlinkReader(payload)
        guard let index = reader.int32(at: 4), let flags = reader.uint32(at: 8) else { return nil }
        let attributes = NetlinkMessage.attributes(in: payload, from: 16)
        let name = attributes[NetlinkConstants.linkAttributeName].map(Self.cString) ?? "if\(index)"
        let mac = attributes[NetlinkConstants.linkAttributeAddress].flatMap { $0.isEmpty ? nil : MACAddress(bytes: $0) }
        let mtu = attributes[NetlinkConstants.linkAttributeMTU].flatMap { NetlinkReader($0).uint32(at: 0) }
        let state =
            attributes[NetlinkConstants.linkAttributeOperationalState]
            .flatMap { $0.first }.flatMap { OperationalState(rawValue: $0) } ?? .unknown
        let carrier = attributes[NetlinkConstants.linkAttributeCarrier].flatMap { $0.first }.map { $0 != 0 }
        let master = attributes[NetlinkConstants.linkAttributeMaster].flatMap { NetlinkReader($0).uint32(at: 0) }
            .flatMap { $0 == 0 ? nil : Int32(bitPattern: $0) }
        let kind = attributes[NetlinkConstants.linkAttributeLinkInfo].flatMap { info in
            NetlinkMessage.attributes(in: info, from: 0)[NetlinkConstants.linkInfoKind].map(Self.cString)
        }
        return NetworkLink(
            index: index, name: name, macAddress: mac, flags: flags, mtu: mtu, operationalState: state,
            carrier: carrier, masterIndex: master, kind: kind)
    }

    static func cString(_ bytes: [UInt8]) -> String {
        let end = bytes.firstIndex(of: 0) ?? bytes.count
        return String(decoding: bytes[..<end], as: UTF8.self)
    }
}

/// An address on an interface as RTM_NEWADDR describes it.
public struct InterfaceAddress: Sendable, Hashable, CustomStringConvertible {
    public var interfaceIndex: Int32
    public var address: IPAddress
    public var prefixLength: Int
    public var label: String?

    public init(interfaceIndex: Int32, address: IPAddress, prefixLength: Int, label: String? = nil) {
        self.interfaceIndex = interfaceIndex
        self.address = address
        self.prefixLength = prefixLength
        self.label = label
    }

    public var description: String { "\(address)/\(prefixLength) on index \(interfaceIndex)" }

    /// Decodes an RTM_NEWADDR payload (`struct ifaddrmsg` + attributes). IFA_LOCAL is the interface's own address on
    /// point-to-point links; IFA_ADDRESS otherwise.
    public static func parse(payload: [UInt8]) -> InterfaceAddress? {
        let reader = NetlinkReader(payload)
        guard let family = reader.uint8(at: 0), let prefix = reader.uint8(at: 1), let index = reader.uint32(at: 4)
        else {
            return nil
        }
        let attributes = NetlinkMessage.attributes(in: payload, from: 8)
        guard
            let raw = attributes[NetlinkConstants.addressAttributeLocal]
                ?? attributes[NetlinkConstants.addressAttributeAddress]
        else { return nil }
        let address: IPAddress
        switch family {
        case NetlinkConstants.familyIPv4:
            guard let v4 = IPv4Address(bytes: raw) else { return nil }
            address = .v4(v4)
        case NetlinkConstants.familyIPv6:
            guard let v6 = IPv6Address(bytes: raw) else { return nil }
            address = .v6(v6)
        default:
            return nil
        }
        let label = attributes[NetlinkConstants.addressAttributeLabel].map(NetworkLink.cString)
        return InterfaceAddress(
            interfaceIndex: Int32(bitPattern: index), address: address, prefixLength: Int(prefix), label: label)
    }
}

/// An IPv4 route as RTM_NEWROUTE describes it.
public struct IPv4Route: Sendable, Hashable, CustomStringConvertible {
    public var destination: IPv4Address
    public var prefixLength: Int
    public var gateway: IPv4Address?
    public var outputInterfaceIndex: Int32?
    public var table: UInt32

    public init(
        destination: IPv4Address, prefixLength: Int, gateway: IPv4Address?, outputInterfaceIndex: Int32?,
        table: UInt32 = UInt32(NetlinkConstants.routeTableMain)
    ) {
        self.destination = destination
        self.prefixLength = prefixLength
        self.gateway = gateway
        self.outputInterfaceIndex = outputInterfaceIndex
        self.table = table
    }

    public var isDefault: Bool { prefixLength == 0 }

    public var description: String {
        var text = prefixLength == 0 ? "default" : "\(destination)/\(prefixLength)"
        if let gateway { text += " via \(gateway)" }
        if let outputInterfaceIndex { text += " dev index \(outputInterfaceIndex)" }
        return text
    }

    /// Decodes an RTM_NEWROUTE payload (`struct rtmsg` + attributes); nil for other families.
    public static func parse(payload: [UInt8]) -> IPv4Route? {
        let reader = NetlinkReader(payload)
        guard reader.uint8(at: 0) == NetlinkConstants.familyIPv4, let prefix = reader.uint8(at: 1),
            let table8 = reader.uint8(at: 4)
        else { return nil }
        let attributes = NetlinkMessage.attributes(in: payload, from: 12)
        let destination =
            attributes[NetlinkConstants.routeAttributeDestination].flatMap { IPv4Address(bytes: $0) } ?? .any
        let gateway = attributes[NetlinkConstants.routeAttributeGateway].flatMap { IPv4Address(bytes: $0) }
        let output = attributes[NetlinkConstants.routeAttributeOutputInterface]
            .flatMap { NetlinkReader($0).uint32(at: 0) }.map { Int32(bitPattern: $0) }
        let table =
            attributes[NetlinkConstants.routeAttributeTable].flatMap { NetlinkReader($0).uint32(at: 0) }
            ?? UInt32(table8)
        return IPv4Route(
            destination: destination, prefixLength: Int(prefix), gateway: gateway, outputInterfaceIndex: output,
            table: table)
    }
}
