/// The network parameters: `ip=` (every dracut and kernel form), `BOOTIF=`, `ifname=`, `netdev=`/`bootdev=`,
/// `nameserver=`, `rd.route=`, `rd.neednet`, `rd.peerdns`, and the links of `bond=`, `vlan=`, `bridge=`.
public struct NetworkSpec: Equatable, Sendable {
    /// One parsed `ip=` value.
    public struct IPParameter: Equatable, Sendable {
        /// Interface named in the value, if any.
        public var device: String?
        public var method: AddressMethod
        /// True for `single-dhcp`/`dhcp`/`on`/`any` with no device (all interfaces, first lease wins).
        public var allInterfaces: Bool
        public var hostname: String?
        public var mtu: Int?
        public var mac: MACAddress?
        /// DNS servers from the kernel's trailing `:<dns0>:<dns1>`.
        public var nameservers: [IPAddress]
        public var raw: String
    }

    public var ip: [IPParameter]
    public var bootMAC: MACAddress?
    public var interfaceNames: [InterfaceName]
    /// `netdev=` or `bootdev=` (the last given).
    public var bootDevice: String?
    public var nameservers: [IPAddress]
    public var routes: [Route]
    public var needNet: Bool?
    public var peerDNS: Bool?
    public var warnings: [String]
    /// `bond=`, `vlan=`, `bridge=` in creation order (`VirtualLinkSpec`).
    public var links: [VirtualLink] = []

    public static func parse(_ commandLine: KernelCommandLine) throws(ParameterError) -> NetworkSpec {
        var warnings: [String] = []
        var ip: [IPParameter] = []
        var seenDevices: Set<String> = []
        for value in commandLine.values("ip") {
            let parsed = try parseIP(value, warnings: &warnings)
            if let device = parsed.device {
                if seenDevices.contains(device) {
                    throw ParameterError(parameter: "ip", value: value, problem: "interface \(device) configured twice")
                }
                seenDevices.insert(device)
            }
            ip.append(parsed)
        }
        // Several ip= configure several interfaces; only one may leave its interface to be chosen (the boot NIC).
        if ip.count > 1, ip.filter({ $0.device == nil }).count > 1 {
            let unnamed = ip.filter { $0.device == nil }.map(\.raw)
            throw ParameterError(
                parameter: "ip", value: unnamed.last ?? "",
                problem:
                    "with several ip= parameters, name the interface in each (ip=<if>:dhcp or client:peer:gw:mask:host:<if>:none); \(unnamed.count) do not"
            )
        }
        if commandLine.all("ip").contains(where: { $0.value == nil }) {
            throw ParameterError(
                parameter: "ip", value: "", problem: "needs a value such as dhcp or client:peer:gw:mask:host:if:none")
        }

        var bootMAC: MACAddress? = nil
        if let value = commandLine.last("BOOTIF") {
            guard let mac = normalizeMAC(value, allowHardwareType: true) else {
                throw ParameterError(
                    parameter: "BOOTIF", value: value, problem: "expected 01-aa-bb-cc-dd-ee-ff or aa:bb:cc:dd:ee:ff")
            }
            bootMAC = mac
        }

        var names: [InterfaceName] = []
        for value in commandLine.values("ifname") {
            guard let (name, macText) = value.splitOnce(on: ":"), isValidInterfaceName(name) else {
                throw ParameterError(parameter: "ifname", value: value, problem: "expected <interface>:<mac>")
            }
            guard let mac = normalizeMAC(macText, allowHardwareType: false) else {
                throw ParameterError(
                    parameter: "ifname", value: value, problem: "bad MAC address \(quotedForMessage(macText))")
            }
            if names.contains(where: { $0.name == name || $0.mac == mac }) {
                throw ParameterError(parameter: "ifname", value: value, problem: "interface name or MAC given twice")
            }
            names.append(InterfaceName(name: name, mac: mac))
        }

        var bootDevice: String? = nil
        for key in ["bootdev", "netdev"] {
            if let parameter = commandLine.lastParameter(key) {
                let value = parameter.value ?? ""
                guard isValidInterfaceName(value) else {
                    throw ParameterError(parameter: key, value: value, problem: "expected an interface name")
                }
                bootDevice = value
            }
        }

        var nameservers: [IPAddress] = []
        for value in commandLine.values("nameserver") {
            guard let address = IPAddress(value) else {
                throw ParameterError(parameter: "nameserver", value: value, problem: "expected an IP address")
            }
            nameservers.append(address)
        }

        var routes: [Route] = []
        for value in commandLine.values("rd.route") {
            routes.append(try parseRoute(value))
        }

        let links = try VirtualLinkSpec.parse(commandLine, warnings: &warnings)
        // An address belongs on the bond or bridge, not on an interface enslaved to it.
        for parsed in ip {
            if let device = parsed.device, let master = VirtualLinkSpec.master(of: device, in: links) {
                throw ParameterError(
                    parameter: "ip", value: parsed.raw,
                    problem:
                        "\(device) is enslaved to \(master.name) (\(master.origin)): configure \(master.name) instead")
            }
        }
        if let device = bootDevice, let master = VirtualLinkSpec.master(of: device, in: links) {
            throw ParameterError(
                parameter: "bootdev", value: device,
                problem: "\(device) is enslaved to \(master.name) (\(master.origin)): boot from \(master.name) instead")
        }

        var spec = NetworkSpec(
            ip: ip, bootMAC: bootMAC, interfaceNames: names, bootDevice: bootDevice, nameservers: nameservers,
            routes: routes, needNet: try commandLine.flag("rd.neednet"), peerDNS: try commandLine.flag("rd.peerdns"),
            warnings: warnings)
        spec.links = links
        return spec
    }

    static let dynamicMethods: [String: AddressMethod] = [
        "dhcp": .dhcp, "on": .dhcp, "any": .dhcp, "single-dhcp": .dhcp,
        "dhcp6": .dhcp6, "auto6": .auto6, "link6": .link6, "either6": .either6,
    ]

    static func unsupportedMethod(_ method: String) -> String? {
        switch method {
        case "bootp", "rarp", "both": return "autoconf \(method) is not supported (use dhcp)"
        case "ibft": return "autoconf ibft is not supported"
        default: return nil
        }
    }

    /// Parses one `ip=` value.
    static func parseIP(_ value: String, warnings: inout [String]) throws(ParameterError) -> IPParameter {
        func fail(_ problem: String) -> ParameterError {
            ParameterError(parameter: "ip", value: value, problem: problem)
        }
        let fields = value.splitColonsOutsideBrackets()
        var result = IPParameter(
            device: nil, method: .dhcp, allInterfaces: false, hostname: nil, mtu: nil, mac: nil, nameservers: [],
            raw: value)

        // Form 1: ip=<method>
        if fields.count == 1 {
            let method = fields[0]
            if let dynamic = dynamicMethods[method] {
                result.method = dynamic
                result.allInterfaces = true
                return result
            }
            if method == "off" || method == "none" {
                result.method = .unmanaged
                result.allInterfaces = true
                return result
            }
            if let problem = unsupportedMethod(method) { throw fail(problem) }
            throw fail("unknown form: expected dhcp, <if>:dhcp or <client>:<peer>:<gw>:<mask>:<host>:<if>:<autoconf>")
        }

        // Form 2: ip=<if>:<method>[:[<mtu>][:<mac>]]
        if fields.count < 7 || (dynamicMethods[fields[1]] != nil && IPAddress(fields[0]) == nil && !fields[0].isEmpty) {
            let device = fields[0]
            guard isValidInterfaceName(device), IPAddress(device) == nil else {
                throw fail("expected <interface>:<method> or the 7-field static form")
            }
            guard let method = dynamicMethods[fields[1]] else {
                if let problem = unsupportedMethod(fields[1]) { throw fail(problem) }
                throw fail("unknown method \(quotedForMessage(fields[1])) for interface \(device)")
            }
            result.device = device
            result.method = method
            try parseMTUAndMAC(Array(fields.dropFirst(2)), into: &result, fail: fail)
            return result
        }

        // Form 3/4: ip=<client>:<peer>:<gw>:<netmask>:<hostname>:<if>:<autoconf>[:...]
        let client = fields[0], peer = fields[1], gateway = fields[2], netmask = fields[3]
        let hostname = fields[4], device = fields[5], autoconf = fields[6]
        if !device.isEmpty {
            guard isValidInterfaceName(device) else { throw fail("bad interface name \(quotedForMessage(device))") }
            result.device = device
        }
        if !hostname.isEmpty {
            guard isValidHostName(hostname, allowNumeric: true) else {
                throw fail("bad host name \(quotedForMessage(hostname))")
            }
            result.hostname = hostname
        }
        let tail = Array(fields.dropFirst(7))
        if tail.count >= 7 || (tail.count >= 2 && tail[0].parseDecimal() != nil)
            || (tail.count == 1 && tail[0].parseDecimal() != nil)
        {
            try parseMTUAndMAC(tail, into: &result, fail: fail)
        } else {
            for (index, item) in tail.enumerated() where !item.isEmpty {
                guard let address = IPAddress(item) else {
                    throw fail("field \(8 + index) is neither an MTU nor a DNS address")
                }
                if index < 2 {
                    result.nameservers.append(address)
                } else if index == 2 {
                    warnings.append("ip=\(value): NTP server \(address) ignored")
                } else {
                    throw fail("too many fields")
                }
            }
        }

        let clientAddress: IPAddress?
        if client.isEmpty {
            clientAddress = nil
        } else {
            guard let parsed = IPAddress(client) else { throw fail("bad client address \(quotedForMessage(client))") }
            clientAddress = parsed
        }

        let methodName = autoconf.isEmpty ? (clientAddress == nil ? "dhcp" : "none") : autoconf
        if let dynamic = dynamicMethods[methodName] {
            if clientAddress != nil { throw fail("a client address cannot be combined with \(methodName)") }
            result.method = dynamic
            result.allInterfaces = result.device == nil
            return result
        }
        if let problem = unsupportedMethod(methodName) { throw fail(problem) }
        guard methodName == "none" || methodName == "off" else {
            throw fail("unknown autoconf \(quotedForMessage(methodName))")
        }
        guard let address = clientAddress else { throw fail("static configuration needs a client address") }
        guard !netmask.isEmpty else { throw fail("static configuration needs a netmask (it is not computed)") }
        let prefix: Int
        if let length = netmask.parseDecimal(max: address.isIPv6 ? 128 : 32) {
            prefix = length
        } else if !address.isIPv6, let mask = IPAddress(netmask), let length = IPNetwork.prefixLength(ofNetmask: mask) {
            prefix = length
        } else {
            throw fail("bad netmask \(quotedForMessage(netmask))")
        }
        var gatewayAddress: IPAddress? = nil
        if !gateway.isEmpty {
            guard let parsed = IPAddress(gateway), parsed.isIPv6 == address.isIPv6 else {
                throw fail("bad gateway \(quotedForMessage(gateway))")
            }
            gatewayAddress = parsed
        }
        var peerAddress: IPAddress? = nil
        if !peer.isEmpty {
            // dracut allows `<peer>/prefixlen`; the prefix is not needed here.
            let peerText = peer.splitOnce(on: "/")?.head ?? peer
            guard let parsed = IPAddress(peerText) else {
                throw fail("bad peer/server address \(quotedForMessage(peer))")
            }
            peerAddress = parsed
        }
        result.method = .static(
            StaticAddress(address: address, prefixLength: prefix, gateway: gatewayAddress, peer: peerAddress))
        return result
    }

    /// `[<mtu>][:<mac>]` where the MAC's own colons make it six fields.
    static func parseMTUAndMAC(
        _ tail: [String], into result: inout IPParameter, fail: (String) -> ParameterError
    ) throws(ParameterError) {
        guard let first = tail.first else { return }
        if !first.isEmpty {
            guard let mtu = first.parseDecimal(max: 65535), mtu >= 68 else {
                throw fail("bad MTU \(quotedForMessage(first))")
            }
            result.mtu = mtu
        }
        let macFields = tail.dropFirst()
        if macFields.isEmpty { return }
        if macFields.count == 1 && macFields.first == "" { return }
        guard macFields.count == 6, let mac = normalizeMAC(macFields.joined(separator: ":"), allowHardwareType: false)
        else {
            throw fail("bad MAC address after the MTU field")
        }
        result.mac = mac
    }

    /// `rd.route=<net>/<prefix or mask>:<gateway>[:<interface>]`. The gateway may be empty (dracut.cmdline(7)'s
    /// `rd.route=192.168.200.0/24::ens10`): an on-link route through the interface (the boot interface when none
    /// is named). IPv6 networks go in brackets, with or without the prefix inside (`[2001:DB8:3::/8]`).
    static func parseRoute(_ value: String) throws(ParameterError) -> Route {
        func fail(_ problem: String) -> ParameterError {
            ParameterError(parameter: "rd.route", value: value, problem: problem)
        }
        let fields = value.splitColonsOutsideBrackets()
        guard fields.count == 2 || fields.count == 3 else {
            throw fail("expected <net>/<prefix>:<gateway>[:<interface>]")
        }
        var destinationText = fields[0]
        if destinationText.hasPrefix("["), destinationText.hasSuffix("]"), destinationText.contains("/") {
            destinationText = String(destinationText.dropFirst().dropLast())
        }
        guard let (netText, lengthText) = destinationText.splitOnce(on: "/"), let net = IPAddress(netText) else {
            throw fail("bad destination \(quotedForMessage(fields[0]))")
        }
        let prefix: Int
        if let length = lengthText.parseDecimal(max: net.isIPv6 ? 128 : 32) {
            prefix = length
        } else if let mask = IPAddress(lengthText), let length = IPNetwork.prefixLength(ofNetmask: mask), !net.isIPv6 {
            prefix = length
        } else {
            throw fail("bad prefix length \(quotedForMessage(lengthText))")
        }
        var gateway: IPAddress? = nil
        if !fields[1].isEmpty {
            guard let address = IPAddress(fields[1]), address.isIPv6 == net.isIPv6 else {
                throw fail("bad gateway \(quotedForMessage(fields[1]))")
            }
            gateway = address
        }
        var interface: String? = nil
        if fields.count == 3 && !fields[2].isEmpty {
            guard isValidInterfaceName(fields[2]) else {
                throw fail("bad interface name \(quotedForMessage(fields[2]))")
            }
            interface = fields[2]
        }
        return Route(destination: IPNetwork(address: net, prefixLength: prefix), gateway: gateway, interface: interface)
    }
}
