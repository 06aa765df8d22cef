import Glibc
import SystemPackage

/// An rtnetlink session: link listing and setup, IPv4 addresses and routes. Each request waits for the kernel's
/// acknowledgement (or the end of a dump) by a deadline, and kernel errors come back with the request they answer.
public final class RouteNetlink {
    public enum Error: Swift.Error, Hashable, Sendable, CustomStringConvertible {
        case system(SocketSystemError)
        case shortSend(sent: Int, expected: Int)
        case timedOut
        case malformedReply(NetlinkMessage.ParseError)
        /// The kernel refused `operation` with `errno`.
        case kernel(operation: String, errno: Errno)
        case noSuchLink(String)
        case invalidLinkName(String)
        case requestTimedOut(operation: String, seconds: Int64)

        public var description: String {
            switch self {
            case .system(let error): "netlink: \(error)"
            case .shortSend(let sent, let expected): "netlink: sent \(sent) of \(expected) bytes"
            case .timedOut: "netlink: no reply from the kernel"
            case .malformedReply(let error): "\(error)"
            case .kernel(let operation, let errno):
                "netlink: \(operation): \(errno.description.lowercased()) (errno \(errno.rawValue))"
            case .noSuchLink(let name): "netlink: no interface named '\(name)'"
            case .invalidLinkName(let name):
                "netlink: '\(name)' is not a valid interface name (1-15 bytes, no '/', ':' or spaces)"
            case .requestTimedOut(let operation, let seconds):
                "netlink: \(operation): no reply from the kernel within \(seconds) s"
            }
        }

        /// True for EEXIST, which some callers treat as success.
        public var isAlreadyExists: Bool {
            if case .kernel(_, let errno) = self { return errno == .fileExists }
            return false
        }
    }

    private let transport: NetlinkTransport
    private var sequence: UInt32
    private let replyTimeout: Duration

    /// A session over a given transport; sequence numbers start at `firstSequence` (fixed in tests).
    public init(transport: NetlinkTransport, firstSequence: UInt32 = 1, replyTimeout: Duration = .seconds(5)) {
        self.transport = transport
        self.sequence = firstSequence
        self.replyTimeout = replyTimeout
    }

    /// A session over a new kernel socket.
    public convenience init() throws(Error) {
        self.init(transport: try NetlinkSocket())
    }

    // MARK: Requests (frames are public so tests can compare them as hex)

    public static func getLinksFrame(sequence: UInt32) -> [UInt8] {
        NetlinkWriter.message(
            type: NetlinkConstants.rtmGetLink, flags: NetlinkConstants.flagRequest | NetlinkConstants.flagDump,
            sequence: sequence, body: interfaceInfo(index: 0, flags: 0, change: 0))
    }

    public static func setLinkUpFrame(sequence: UInt32, index: Int32) -> [UInt8] {
        NetlinkWriter.message(
            type: NetlinkConstants.rtmNewLink, flags: NetlinkConstants.flagRequest | NetlinkConstants.flagAcknowledge,
            sequence: sequence,
            body: interfaceInfo(index: index, flags: NetlinkConstants.interfaceUp, change: NetlinkConstants.interfaceUp)
        )
    }

    public static func setMTUFrame(sequence: UInt32, index: Int32, mtu: UInt32) -> [UInt8] {
        var body = NetlinkWriter()
        body.append(contentsOf: interfaceInfo(index: index, flags: 0, change: 0))
        body.appendAttribute(type: NetlinkConstants.linkAttributeMTU, uint32: mtu)
        return NetlinkWriter.message(
            type: NetlinkConstants.rtmNewLink, flags: NetlinkConstants.flagRequest | NetlinkConstants.flagAcknowledge,
            sequence: sequence, body: body.bytes)
    }

    public static func setLinkDownFrame(sequence: UInt32, index: Int32) -> [UInt8] {
        NetlinkWriter.message(
            type: NetlinkConstants.rtmNewLink, flags: NetlinkConstants.flagRequest | NetlinkConstants.flagAcknowledge,
            sequence: sequence, body: interfaceInfo(index: index, flags: 0, change: NetlinkConstants.interfaceUp))
    }

    /// IFLA_IFNAME on an existing index renames the link (the kernel wants it down).
    public static func renameLinkFrame(sequence: UInt32, index: Int32, name: String) -> [UInt8] {
        var body = NetlinkWriter()
        body.append(contentsOf: interfaceInfo(index: index, flags: 0, change: 0))
        body.appendAttribute(type: NetlinkConstants.linkAttributeName, string: name)
        return NetlinkWriter.message(
            type: NetlinkConstants.rtmNewLink, flags: NetlinkConstants.flagRequest | NetlinkConstants.flagAcknowledge,
            sequence: sequence, body: body.bytes)
    }

    /// IFLA_ADDRESS sets the hardware address (most drivers want the link down).
    public static func setMACAddressFrame(sequence: UInt32, index: Int32, mac: MACAddress) -> [UInt8] {
        var body = NetlinkWriter()
        body.append(contentsOf: interfaceInfo(index: index, flags: 0, change: 0))
        body.appendAttribute(type: NetlinkConstants.linkAttributeAddress, payload: mac.bytes)
        return NetlinkWriter.message(
            type: NetlinkConstants.rtmNewLink, flags: NetlinkConstants.flagRequest | NetlinkConstants.flagAcknowledge,
            sequence: sequence, body: body.bytes)
    }

    /// IFLA_LINKINFO { IFLA_INFO_KIND, IFLA_INFO_DATA { ... } }.
    private static func linkInfo(kind: String, data: [LinkDataAttribute]) -> [UInt8] {
        var inner = NetlinkWriter()
        inner.appendAttribute(type: NetlinkConstants.linkInfoKind, payload: Array(kind.utf8))
        if !data.isEmpty {
            var dataWriter = NetlinkWriter()
            for attribute in data {
                dataWriter.appendAttribute(
                    type: attribute.nested ? attribute.type | NetlinkConstants.attributeNested : attribute.type,
                    payload: attribute.payload)
            }
            inner.appendAttribute(
                type: NetlinkConstants.linkInfoData | NetlinkConstants.attributeNested, payload: dataWriter.bytes)
        }
        var outer = NetlinkWriter()
        outer.appendAttribute(
            type: NetlinkConstants.linkAttributeLinkInfo | NetlinkConstants.attributeNested, payload: inner.bytes)
        return outer.bytes
    }

    /// RTM_NEWLINK with NLM_F_CREATE|NLM_F_EXCL: a new bond, VLAN or bridge named `name` (down).
    public static func createLinkFrame(sequence: UInt32, name: String, kind: NewLinkKind) -> [UInt8] {
        var body = NetlinkWriter()
        body.append(contentsOf: interfaceInfo(index: 0, flags: 0, change: 0))
        body.appendAttribute(type: NetlinkConstants.linkAttributeName, string: name)
        if case .vlan(_, let parent) = kind {
            body.appendAttribute(type: NetlinkConstants.linkAttributeLink, uint32: UInt32(bitPattern: parent))
        }
        body.append(contentsOf: linkInfo(kind: kind.kindName, data: kind.data))
        return NetlinkWriter.message(
            type: NetlinkConstants.rtmNewLink,
            flags: NetlinkConstants.flagRequest | NetlinkConstants.flagAcknowledge | NetlinkConstants.flagCreate
                | NetlinkConstants.flagExclusive,
            sequence: sequence, body: body.bytes)
    }

    /// RTM_NEWLINK on an existing link of `kind` changing its IFLA_INFO_DATA (a bond's primary once enslaved).
    public static func changeLinkDataFrame(
        sequence: UInt32, index: Int32, kind: String, data: [LinkDataAttribute]
    ) -> [UInt8] {
        var body = NetlinkWriter()
        body.append(contentsOf: interfaceInfo(index: index, flags: 0, change: 0))
        body.append(contentsOf: linkInfo(kind: kind, data: data))
        return NetlinkWriter.message(
            type: NetlinkConstants.rtmNewLink, flags: NetlinkConstants.flagRequest | NetlinkConstants.flagAcknowledge,
            sequence: sequence, body: body.bytes)
    }

    /// IFLA_MASTER: enslaves link `index` to the bond or bridge `masterIndex` (a bond wants the slave down).
    public static func setMasterFrame(sequence: UInt32, index: Int32, masterIndex: Int32) -> [UInt8] {
        var body = NetlinkWriter()
        body.append(contentsOf: interfaceInfo(index: index, flags: 0, change: 0))
        body.appendAttribute(type: NetlinkConstants.linkAttributeMaster, uint32: UInt32(bitPattern: masterIndex))
        return NetlinkWriter.message(
            type: NetlinkConstants.rtmNewLink, flags: NetlinkConstants.flagRequest | NetlinkConstants.flagAcknowledge,
            sequence: sequence, body: body.bytes)
    }

    public static func deleteLinkFrame(sequence: UInt32, index: Int32) -> [UInt8] {
        NetlinkWriter.message(
            type: NetlinkConstants.rtmDeleteLink,
            flags: NetlinkConstants.flagRequest | NetlinkConstants.flagAcknowledge,
            sequence: sequence, body: interfaceInfo(index: index, flags: 0, change: 0))
    }

    public static func getAddressesFrame(sequence: UInt32, family: UInt8) -> [UInt8] {
        var body = NetlinkWriter()
        body.append(family)
        body.append(contentsOf: [0, 0, 0])
        body.append(UInt32(0))
        return NetlinkWriter.message(
            type: NetlinkConstants.rtmGetAddress, flags: NetlinkConstants.flagRequest | NetlinkConstants.flagDump,
            sequence: sequence, body: body.bytes)
    }

    public static func addAddressFrame(sequence: UInt32, index: Int32, address: IPv4Address, prefixLength: Int)
        -> [UInt8]
    {
        addressFrame(
            type: NetlinkConstants.rtmNewAddress,
            flags: NetlinkConstants.flagRequest | NetlinkConstants.flagAcknowledge | NetlinkConstants.flagCreate
                | NetlinkConstants.flagReplace,
            sequence: sequence, index: index, address: address, prefixLength: prefixLength)
    }

    /// Adds an IPv6 address, refusing (EEXIST) to touch one that is already there: the caller adds what the kernel
    /// itself would add, and whichever comes first keeps its flags and lifetimes.
    public static func addIPv6AddressFrame(sequence: UInt32, index: Int32, address: IPv6Address, prefixLength: Int)
        -> [UInt8]
    {
        var body = NetlinkWriter()
        body.append(NetlinkConstants.familyIPv6)
        body.append(UInt8(max(0, min(128, prefixLength))))
        body.append(UInt8(0))  // flags: permanent (no lifetimes given), duplicate detection as usual
        // The kernel takes an IPv6 address's scope from the address itself; this only says what we mean.
        body.append(
            address.bytes.prefix(2) == [0xFE, 0x80]
                ? NetlinkConstants.routeScopeLink : NetlinkConstants.routeScopeUniverse)
        body.append(UInt32(bitPattern: index))
        body.appendAttribute(type: NetlinkConstants.addressAttributeLocal, payload: address.bytes)
        return NetlinkWriter.message(
            type: NetlinkConstants.rtmNewAddress,
            flags: NetlinkConstants.flagRequest | NetlinkConstants.flagAcknowledge | NetlinkConstants.flagCreate
                | NetlinkConstants.flagExclusive,
            sequence: sequence, body: body.bytes)
    }

    public static func deleteAddressFrame(sequence: UInt32, index: Int32, address: IPv4Address, prefixLength: Int)
        -> [UInt8]
    {
        addressFrame(
            type: NetlinkConstants.rtmDeleteAddress,
            flags: NetlinkConstants.flagRequest | NetlinkConstants.flagAcknowledge,
            sequence: sequence, index: index, address: address, prefixLength: prefixLength)
    }

    private static func addressFrame(
        type: UInt16, flags: UInt16, sequence: UInt32, index: Int32, address: IPv4Address, prefixLength: Int
    ) -> [UInt8] {
        let prefix = max(0, min(32, prefixLength))
        var body = NetlinkWriter()
        body.append(NetlinkConstants.familyIPv4)
        body.append(UInt8(prefix))
        body.append(UInt8(0))  // flags
        body.append(NetlinkConstants.routeScopeUniverse)
        body.append(UInt32(bitPattern: index))
        body.appendAttribute(type: NetlinkConstants.addressAttributeLocal, payload: address.bytes)
        body.appendAttribute(type: NetlinkConstants.addressAttributeAddress, payload: address.bytes)
        if prefix < 31 {
            let broadcast = IPv4Address(value: address.value | ~IPv4Address.netmask(prefixLength: prefix).value)
            body.appendAttribute(type: NetlinkConstants.addressAttributeBroadcast, payload: broadcast.bytes)
        }
        return NetlinkWriter.message(type: type, flags: flags, sequence: sequence, body: body.bytes)
    }

    public static func getRoutesFrame(sequence: UInt32) -> [UInt8] {
        NetlinkWriter.message(
            type: NetlinkConstants.rtmGetRoute, flags: NetlinkConstants.flagRequest | NetlinkConstants.flagDump,
            sequence: sequence, body: [NetlinkConstants.familyIPv4] + [UInt8](repeating: 0, count: 11))
    }

    /// A route in the main table. Without a gateway the route is link-scoped (directly reachable on `index`).
    public static func addRouteFrame(
        sequence: UInt32, destination: IPv4Address, prefixLength: Int, gateway: IPv4Address?, index: Int32
    ) -> [UInt8] {
        let prefix = max(0, min(32, prefixLength))
        var body = NetlinkWriter()
        body.append(NetlinkConstants.familyIPv4)
        body.append(UInt8(prefix))  // dst_len
        body.append(UInt8(0))  // src_len
        body.append(UInt8(0))  // tos
        body.append(NetlinkConstants.routeTableMain)
        body.append(NetlinkConstants.routeProtocolBoot)
        body.append(gateway == nil ? NetlinkConstants.routeScopeLink : NetlinkConstants.routeScopeUniverse)
        body.append(NetlinkConstants.routeTypeUnicast)
        body.append(UInt32(0))  // rtm_flags
        if prefix > 0 {
            body.appendAttribute(
                type: NetlinkConstants.routeAttributeDestination,
                payload: destination.masked(prefixLength: prefix).bytes)
        }
        if let gateway { body.appendAttribute(type: NetlinkConstants.routeAttributeGateway, payload: gateway.bytes) }
        body.appendAttribute(type: NetlinkConstants.routeAttributeOutputInterface, uint32: UInt32(bitPattern: index))
        return NetlinkWriter.message(
            type: NetlinkConstants.rtmNewRoute,
            flags: NetlinkConstants.flagRequest | NetlinkConstants.flagAcknowledge | NetlinkConstants.flagCreate
                | NetlinkConstants.flagReplace,
            sequence: sequence, body: body.bytes)
    }

    private static func interfaceInfo(index: Int32, flags: UInt32, change: UInt32) -> [UInt8] {
        var body = NetlinkWriter()
        body.append(NetlinkConstants.familyUnspecified)
        body.append(UInt8(0))  // padding
        body.append(UInt16(0))  // ifi_type
        body.append(index)
        body.append(flags)
        body.append(change)
        return body.bytes
    }

    // MARK: Operations

    /// Every interface the kernel knows, in index order.
    public func links() throws(Error) -> [NetworkLink] {
        let messages = try dump(Self.getLinksFrame(sequence: nextSequence()), operation: "list links")
        return messages.filter { $0.type == NetlinkConstants.rtmNewLink }.compactMap {
            NetworkLink.parse(payload: $0.payload)
        }
        .sorted { $0.index < $1.index }
    }

    public func link(named name: String) throws(Error) -> NetworkLink {
        guard let link = try links().first(where: { $0.name == name }) else { throw .noSuchLink(name) }
        return link
    }

    public func link(index: Int32) throws(Error) -> NetworkLink {
        guard let link = try links().first(where: { $0.index == index }) else { throw .noSuchLink("index \(index)") }
        return link
    }

    public func setLinkUp(index: Int32) throws(Error) {
        try acknowledged(Self.setLinkUpFrame(sequence: nextSequence(), index: index), operation: "set link \(index) up")
    }

    public func setLinkDown(index: Int32) throws(Error) {
        try acknowledged(
            Self.setLinkDownFrame(sequence: nextSequence(), index: index), operation: "set link \(index) down")
    }

    /// Renames a link; names are 1...15 bytes without '/', ':' or whitespace (the kernel's dev_valid_name).
    public func renameLink(index: Int32, to name: String) throws(Error) {
        guard (1...15).contains(name.utf8.count), name != ".", name != "..",
            !name.utf8.contains(where: { $0 == 47 || $0 == 58 || $0 <= 32 || $0 == 127 })
        else { throw .invalidLinkName(name) }
        try acknowledged(
            Self.renameLinkFrame(sequence: nextSequence(), index: index, name: name),
            operation: "rename link \(index) to \(name)")
    }

    /// Creates a bond, VLAN or bridge; EEXIST when the name is taken (`Error.isAlreadyExists`).
    public func createLink(name: String, kind: NewLinkKind) throws(Error) {
        guard (1...15).contains(name.utf8.count), name != ".", name != "..",
            !name.utf8.contains(where: { $0 == 47 || $0 == 58 || $0 <= 32 || $0 == 127 })
        else { throw .invalidLinkName(name) }
        try acknowledged(
            Self.createLinkFrame(sequence: nextSequence(), name: name, kind: kind),
            operation: "create \(kind.kindName) \(name)")
    }

    public func changeLinkData(index: Int32, kind: String, data: [LinkDataAttribute]) throws(Error) {
        try acknowledged(
            Self.changeLinkDataFrame(sequence: nextSequence(), index: index, kind: kind, data: data),
            operation: "change \(kind) settings of link \(index)")
    }

    public func setMaster(index: Int32, masterIndex: Int32) throws(Error) {
        try acknowledged(
            Self.setMasterFrame(sequence: nextSequence(), index: index, masterIndex: masterIndex),
            operation: "enslave link \(index) to link \(masterIndex)")
    }

    public func deleteLink(index: Int32) throws(Error) {
        try acknowledged(
            Self.deleteLinkFrame(sequence: nextSequence(), index: index), operation: "delete link \(index)")
    }

    public func setMACAddress(index: Int32, mac: MACAddress) throws(Error) {
        try acknowledged(
            Self.setMACAddressFrame(sequence: nextSequence(), index: index, mac: mac),
            operation: "set mac \(mac) on link \(index)")
    }

    public func setMTU(index: Int32, mtu: UInt32) throws(Error) {
        try acknowledged(
            Self.setMTUFrame(sequence: nextSequence(), index: index, mtu: mtu),
            operation: "set mtu \(mtu) on link \(index)")
    }

    /// Adds (or replaces) an IPv4 address with its broadcast address; the kernel adds the subnet's link route.
    public func addAddress(index: Int32, address: IPv4Address, prefixLength: Int) throws(Error) {
        try acknowledged(
            Self.addAddressFrame(sequence: nextSequence(), index: index, address: address, prefixLength: prefixLength),
            operation: "add address \(address)/\(prefixLength) to link \(index)")
    }

    /// Adds an IPv6 address; `Error.isAlreadyExists` when the link has it already.
    public func addIPv6Address(index: Int32, address: IPv6Address, prefixLength: Int) throws(Error) {
        try acknowledged(
            Self.addIPv6AddressFrame(
                sequence: nextSequence(), index: index, address: address, prefixLength: prefixLength),
            operation: "add address \(address)/\(prefixLength) to link \(index)")
    }

    /// Removes an IPv4 address; the kernel drops the routes that depended on it.
    public func deleteAddress(index: Int32, address: IPv4Address, prefixLength: Int) throws(Error) {
        try acknowledged(
            Self.deleteAddressFrame(
                sequence: nextSequence(), index: index, address: address, prefixLength: prefixLength),
            operation: "delete address \(address)/\(prefixLength) from link \(index)")
    }

    /// Addresses of one family (`NetlinkConstants.familyIPv4`/`familyIPv6`), optionally of one interface only.
    public func addresses(family: UInt8 = NetlinkConstants.familyIPv4, index: Int32? = nil) throws(Error)
        -> [InterfaceAddress]
    {
        let messages = try dump(
            Self.getAddressesFrame(sequence: nextSequence(), family: family), operation: "list addresses")
        return messages.filter { $0.type == NetlinkConstants.rtmNewAddress }
            .compactMap { InterfaceAddress.parse(payload: $0.payload) }
            .filter { index == nil || $0.interfaceIndex == index }
    }

    /// IPv4 routes of the main table.
    public func routes() throws(Error) -> [IPv4Route] {
        let messages = try dump(Self.getRoutesFrame(sequence: nextSequence()), operation: "list routes")
        return messages.filter { $0.type == NetlinkConstants.rtmNewRoute }.compactMap {
            IPv4Route.parse(payload: $0.payload)
        }
        .filter { $0.table == UInt32(NetlinkConstants.routeTableMain) }
    }

    /// Adds (or replaces) a main-table route; prefix length 0 is the default route.
    public func addRoute(destination: IPv4Address, prefixLength: Int, gateway: IPv4Address?, index: Int32) throws(Error)
    {
        let route = IPv4Route(
            destination: destination, prefixLength: prefixLength, gateway: gateway, outputInterfaceIndex: index)
        try acknowledged(
            Self.addRouteFrame(
                sequence: nextSequence(), destination: destination, prefixLength: prefixLength, gateway: gateway,
                index: index),
            operation: "add route \(route)")
    }

    // MARK: Reply handling

    private func nextSequence() -> UInt32 {
        let current = sequence
        sequence &+= 1
        return current
    }

    private func sequence(of frame: [UInt8]) -> UInt32 { NetlinkReader(frame).uint32(at: 8) ?? 0 }

    /// Sends a request flagged NLM_F_ACK and waits for the NLMSG_ERROR carrying its sequence (0 means success).
    private func acknowledged(_ frame: [UInt8], operation: String) throws(Error) {
        let expected = sequence(of: frame)
        try transport.send(frame)
        let deadline = ContinuousClock.now.advanced(by: replyTimeout)
        while true {
            for message in try receiveMessages(deadline: deadline, operation: operation)
            where message.sequence == expected {
                if message.type == NetlinkConstants.nlmsgError {
                    let code = NetlinkReader(message.payload).int32(at: 0) ?? 0
                    if code == 0 { return }
                    throw .kernel(operation: operation, errno: Self.errno(negated: code))
                }
            }
        }
    }

    /// Sends a dump request and collects the reply messages until NLMSG_DONE.
    private func dump(_ frame: [UInt8], operation: String) throws(Error) -> [NetlinkMessage] {
        let expected = sequence(of: frame)
        try transport.send(frame)
        let deadline = ContinuousClock.now.advanced(by: replyTimeout)
        var collected: [NetlinkMessage] = []
        while true {
            for message in try receiveMessages(deadline: deadline, operation: operation)
            where message.sequence == expected {
                switch message.type {
                case NetlinkConstants.nlmsgDone:
                    let code = NetlinkReader(message.payload).int32(at: 0) ?? 0
                    if code < 0 { throw .kernel(operation: operation, errno: Self.errno(negated: code)) }
                    return collected
                case NetlinkConstants.nlmsgError:
                    let code = NetlinkReader(message.payload).int32(at: 0) ?? 0
                    if code != 0 { throw .kernel(operation: operation, errno: Self.errno(negated: code)) }
                default:
                    collected.append(message)
                }
            }
        }
    }

    /// NLMSG_ERROR and NLMSG_DONE carry the errno negated; Int32.min has no positive counterpart.
    private static func errno(negated code: Int32) -> Errno {
        Errno(rawValue: code == Int32.min ? Int32.max : -code)
    }

    private func receiveMessages(deadline: ContinuousClock.Instant, operation: String) throws(Error) -> [NetlinkMessage]
    {
        let datagram: [UInt8]
        do {
            datagram = try transport.receive(deadline: deadline)
        } catch .timedOut {
            throw .requestTimedOut(operation: operation, seconds: replyTimeout.components.seconds)
        }
        do {
            return try NetlinkMessage.parseAll(datagram)
        } catch {
            throw .malformedReply(error)
        }
    }
}
