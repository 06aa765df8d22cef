/// dracut's `bond=`, `vlan=` and `bridge=` (dracut.cmdline(7), network-legacy's parse-bond.sh, parse-vlan.sh,
/// parse-bridge.sh): the links to create before addresses are configured, validated as a whole (names given once,
/// no loops, each interface in at most one bond or bridge) and put in creation order.
///
/// - `bond=<name>[:<slaves>[:<options>[:<mtu>]]]`; a bare `bond` (or `bond=`) is `bond0:eth0,eth1:mode=balance-rr`,
///   `bond=<name>` is over eth0,eth1. Options are comma-separated sysfs names (`mode=active-backup,miimon=100`),
///   `arp_ip_target`'s addresses separated by `;`.
/// - `vlan=<name>:<parent>`, the id taken from the name: `vlan0005`, `vlan5`, `<dev>.0005`, `<dev>.5`.
/// - `bridge=<name>:<ports>`; a bare `bridge` is `br0:eth0`.
public enum VirtualLinkSpec {
    public static func parse(_ commandLine: KernelCommandLine, warnings: inout [String]) throws(ParameterError)
        -> [VirtualLink]
    {
        var links: [VirtualLink] = []
        for parameter in commandLine.all("bond") { links.append(try parseBond(parameter.value)) }
        for parameter in commandLine.all("vlan") { links.append(try parseVLAN(parameter.value ?? "")) }
        for parameter in commandLine.all("bridge") { links.append(try parseBridge(parameter.value)) }
        if commandLine.contains("team") {
            warnings.append("team= is not supported (it needs teamd); use bond= for an equivalent bond")
        }
        return try ordered(links)
    }

    // MARK: bond=

    static func parseBond(_ value: String?) throws(ParameterError) -> VirtualLink {
        func fail(_ problem: String) -> ParameterError {
            ParameterError(parameter: "bond", value: value ?? "", problem: problem)
        }
        let defaultSlaves = ["eth0", "eth1"]
        guard let value, !value.isEmpty else {
            return VirtualLink(
                kind: .bond, name: "bond0", lowerLinks: defaultSlaves, vlanID: nil,
                bond: BondSettings(mode: .balanceRR, options: []), mtu: nil, origin: "bond (default)")
        }
        // Like parse-bond.sh, `:` splits the fields and the last field may not hold one (IPv6 arp targets are
        // not supported, so no brackets are needed).
        let fields = value.splitKeepingEmpty(on: ":")
        guard fields.count <= 4 else {
            throw fail("expected <name>[:<slaves>[:<options>[:<mtu>]]] (at most four fields, \(fields.count) given)")
        }
        let name = fields[0]
        guard !name.isEmpty else {
            throw fail("the bond has no name (bond=<name>:<slaves>...; a bare bond means bond0 over eth0,eth1)")
        }
        guard isValidInterfaceName(name) else { throw fail("bad bond name \(quotedForMessage(name))") }
        var slaves = defaultSlaves
        if fields.count >= 2 {
            slaves = try interfaceList(fields[1], what: "slave", fail: fail)
        }
        var settings = BondSettings(mode: .balanceRR, options: [])
        if fields.count >= 3 {
            settings = try parseBondOptions(fields[2], fail: fail)
        }
        var mtu: Int? = nil
        if fields.count == 4 {
            guard let parsed = fields[3].parseDecimal(max: 65535), parsed >= 68 else {
                throw fail("bad MTU \(quotedForMessage(fields[3])) (68...65535)")
            }
            mtu = parsed
        }
        for option in settings.options {
            if let slave = option.interface, !slaves.contains(slave) {
                throw fail(
                    "\(option.name)=\(slave) names no slave of \(name) (slaves: \(slaves.joined(separator: ",")))")
            }
        }
        return VirtualLink(
            kind: .bond, name: name, lowerLinks: slaves, vlanID: nil, bond: settings, mtu: mtu, origin: "bond=\(value)")
    }

    /// A comma-separated list of interface names, at least one, none twice.
    static func interfaceList(_ text: String, what: String, fail: (String) -> ParameterError) throws(ParameterError)
        -> [String]
    {
        let names = text.commaList()
        guard !names.isEmpty else { throw fail("the \(what) list is empty") }
        var seen: Set<String> = []
        for name in names {
            guard isValidInterfaceName(name) else { throw fail("bad \(what) name \(quotedForMessage(name))") }
            guard seen.insert(name).inserted else { throw fail("\(what) \(name) is listed twice") }
        }
        return names
    }

    /// How an option's value is read.
    enum OptionGrammar {
        /// A decimal number in the range.
        case number(ClosedRange<UInt32>)
        /// A name from the table, or its number.
        case named([String: UInt32])
        /// `arp_ip_target`: IPv4 addresses separated by `;` (each may carry initscripts' `+`).
        case addresses
        /// A slave's name.
        case interface
        case mac
    }

    static let onOff: [String: UInt32] = ["off": 0, "on": 1, "0": 0, "1": 1]
    static let intMax = UInt32(Int32.max)

    /// The bonding driver's options (bond_options.c), by their sysfs names, with the value ranges and names it
    /// accepts. `mode` is handled apart; `max_bonds` is a module parameter (`bonding.max_bonds=`).
    static let bondOptions: [String: OptionGrammar] = [
        "miimon": .number(0...intMax),
        "updelay": .number(0...intMax),
        "downdelay": .number(0...intMax),
        "peer_notif_delay": .number(0...intMax),
        "use_carrier": .named(onOff),
        "arp_interval": .number(0...intMax),
        "arp_ip_target": .addresses,
        "arp_validate": .named([
            "none": 0, "active": 1, "backup": 2, "all": 3, "filter": 4, "filter_active": 5, "filter_backup": 6,
        ]),
        "arp_all_targets": .named(["any": 0, "all": 1]),
        "arp_missed_max": .number(1...255),
        "primary": .interface,
        "active_slave": .interface,
        "primary_reselect": .named(["always": 0, "better": 1, "failure": 2]),
        "fail_over_mac": .named(["none": 0, "active": 1, "follow": 2]),
        "xmit_hash_policy": .named([
            "layer2": 0, "layer3+4": 1, "layer2+3": 2, "encap2+3": 3, "encap3+4": 4, "vlan+srcmac": 5,
        ]),
        "resend_igmp": .number(0...255),
        "num_grat_arp": .number(0...255),
        "num_unsol_na": .number(0...255),
        "all_slaves_active": .named(onOff),
        "min_links": .number(0...intMax),
        "lp_interval": .number(1...intMax),
        "packets_per_slave": .number(0...65535),
        "lacp_rate": .named(["slow": 0, "fast": 1]),
        "lacp_active": .named(onOff),
        "ad_select": .named(["stable": 0, "bandwidth": 1, "count": 2]),
        "ad_actor_sys_prio": .number(1...65535),
        "ad_user_port_key": .number(0...1023),
        "ad_actor_system": .mac,
        "tlb_dynamic_lb": .named(onOff),
    ]

    /// Every bond option name `bond=` accepts besides `mode` (sorted).
    public static var bondOptionNames: [String] { bondOptions.keys.filter { $0 != "num_unsol_na" }.sorted() }

    static func parseBondOptions(_ text: String, fail: (String) -> ParameterError) throws(ParameterError)
        -> BondSettings
    {
        var mode = BondMode.balanceRR
        var options: [BondOption] = []
        var seen: Set<String> = []
        for item in text.commaList() {
            guard let (rawName, value) = item.splitOnce(on: "=") else {
                throw fail("bond option \(quotedForMessage(item)) is not <name>=<value>")
            }
            // num_unsol_na is an alias of num_grat_arp (one kernel setting).
            let name = rawName == "num_unsol_na" ? "num_grat_arp" : rawName
            guard seen.insert(name).inserted else { throw fail("bond option \(rawName) is given twice") }
            guard !value.isEmpty else { throw fail("bond option \(rawName) has no value") }
            if name == "mode" {
                if let named = BondMode(rawValue: value) {
                    mode = named
                } else if let number = value.parseDecimal(max: 6),
                    let numbered = BondMode.allCases.first(where: { Int($0.kernelValue) == number })
                {
                    mode = numbered
                } else {
                    throw fail(
                        "unknown bond mode \(quotedForMessage(value)) (expected "
                            + BondMode.allCases.map(\.rawValue).joined(separator: ", ") + ", or 0...6)")
                }
                continue
            }
            if name == "max_bonds" {
                throw fail("max_bonds is a module parameter (bonding.max_bonds=), not an option of one bond")
            }
            if name == "ns_ip6_target" { throw fail("ns_ip6_target (IPv6 targets) is not supported") }
            guard let grammar = bondOptions[name] else {
                throw fail(
                    "unknown bond option \(quotedForMessage(rawName)) (known: mode, "
                        + bondOptions.keys.sorted().joined(separator: ", ") + ")")
            }
            var option = BondOption(name: name, number: 0, addresses: [], interface: nil, mac: nil, text: value)
            switch grammar {
            case .number(let range):
                guard let number = value.parseDecimal(max: Int(range.upperBound)), number >= Int(range.lowerBound)
                else {
                    throw fail(
                        "bond option \(rawName)=\(value): expected a number in \(range.lowerBound)...\(range.upperBound)"
                    )
                }
                option.number = UInt32(number)
            case .named(let table):
                if let number = table[value] {
                    option.number = number
                } else if let number = value.parseDecimal(max: Int(UInt32.max)), table.values.contains(UInt32(number)) {
                    option.number = UInt32(number)
                } else {
                    let names = table.filter { $0.key.parseDecimal() == nil }.sorted { $0.value < $1.value }.map(\.key)
                    throw fail(
                        "bond option \(rawName)=\(value): expected one of \(names.joined(separator: ", ")) or its number"
                    )
                }
            case .addresses:
                for piece in value.splitKeepingEmpty(on: ";") where !piece.isEmpty {
                    let text = piece.startsWith("+") ? piece.droppingScalars(1) : piece
                    guard let address = IPAddress(text), !address.isIPv6 else {
                        throw fail("arp_ip_target: \(quotedForMessage(piece)) is not an IPv4 address")
                    }
                    guard !option.addresses.contains(address) else {
                        throw fail("arp_ip_target: \(address) is listed twice")
                    }
                    option.addresses.append(address)
                }
                guard !option.addresses.isEmpty else { throw fail("arp_ip_target has no address") }
                guard option.addresses.count <= 16 else {
                    throw fail("arp_ip_target: \(option.addresses.count) addresses, the kernel takes at most 16")
                }
            case .interface:
                guard isValidInterfaceName(value) else {
                    throw fail("bond option \(rawName): bad interface name \(quotedForMessage(value))")
                }
                option.interface = value
            case .mac:
                guard let mac = normalizeMAC(value, allowHardwareType: false) else {
                    throw fail("bond option \(rawName): bad MAC address \(quotedForMessage(value))")
                }
                option.mac = mac
            }
            options.append(option)
        }
        return BondSettings(mode: mode, options: options)
    }

    // MARK: vlan=

    static func parseVLAN(_ value: String) throws(ParameterError) -> VirtualLink {
        func fail(_ problem: String) -> ParameterError {
            ParameterError(parameter: "vlan", value: value, problem: problem)
        }
        let fields = value.splitKeepingEmpty(on: ":")
        guard fields.count == 2, !fields[0].isEmpty, !fields[1].isEmpty else {
            throw fail("expected <vlanname>:<phydevice>, e.g. vlan=vlan0005:eth0 or vlan=eth0.5:eth0")
        }
        let (name, parent) = (fields[0], fields[1])
        guard isValidInterfaceName(name) else { throw fail("bad VLAN name \(quotedForMessage(name))") }
        guard isValidInterfaceName(parent) else { throw fail("bad parent device \(quotedForMessage(parent))") }
        guard name != parent else { throw fail("the VLAN \(name) cannot be its own parent") }
        guard let id = vlanID(fromName: name) else {
            throw fail(
                "cannot take the VLAN id from the name \(quotedForMessage(name)): name it vlan<id> or <device>.<id> "
                    + "(vlan0005, vlan5, eth0.0005, eth0.5)")
        }
        guard (1...4094).contains(id) else { throw fail("VLAN id \(id) is outside 1...4094") }
        return VirtualLink(
            kind: .vlan, name: name, lowerLinks: [parent], vlanID: id, bond: nil, mtu: nil, origin: "vlan=\(value)")
    }

    /// dracut's ifup.sh `get_vid`: `vlan<digits>` (VLAN_PLUS_VID, with or without padding), else the digits after
    /// the last dot (DEV_PLUS_VID). Nil when neither form gives digits; ids above 4094 are returned for the message.
    static func vlanID(fromName name: String) -> Int? {
        if name.hasPrefix("vlan"), let id = name.droppingScalars(4).parseDecimal(max: 99_999) { return id }
        let pieces = name.splitKeepingEmpty(on: ".")
        guard pieces.count >= 2, let last = pieces.last, !(pieces.first ?? "").isEmpty else { return nil }
        return last.parseDecimal(max: 99_999)
    }

    // MARK: bridge=

    static func parseBridge(_ value: String?) throws(ParameterError) -> VirtualLink {
        guard let value else {
            return VirtualLink(
                kind: .bridge, name: "br0", lowerLinks: ["eth0"], vlanID: nil, bond: nil, mtu: nil,
                origin: "bridge (default)")
        }
        func fail(_ problem: String) -> ParameterError {
            ParameterError(parameter: "bridge", value: value, problem: problem)
        }
        let fields = value.splitKeepingEmpty(on: ":")
        guard fields.count == 2, !fields[0].isEmpty else {
            throw fail("expected <bridgename>:<ethnames> (a bare bridge means br0 over eth0)")
        }
        guard isValidInterfaceName(fields[0]) else { throw fail("bad bridge name \(quotedForMessage(fields[0]))") }
        let ports = try interfaceList(fields[1], what: "port", fail: fail)
        return VirtualLink(
            kind: .bridge, name: fields[0], lowerLinks: ports, vlanID: nil, bond: nil, mtu: nil,
            origin: "bridge=\(value)")
    }

    // MARK: The links together

    /// Checks the links as a whole and orders them so that each comes after the links it is built on.
    static func ordered(_ links: [VirtualLink]) throws(ParameterError) -> [VirtualLink] {
        func fail(_ link: VirtualLink, _ problem: String) -> ParameterError {
            let parameter = link.kind.rawValue
            let value = link.origin.hasPrefix(parameter + "=") ? link.origin.droppingScalars(parameter.count + 1) : ""
            return ParameterError(parameter: parameter, value: value, problem: problem)
        }
        var byName: [String: VirtualLink] = [:]
        for link in links {
            if let earlier = byName[link.name] {
                throw fail(link, "\(link.name) is already created by \(earlier.origin)")
            }
            byName[link.name] = link
        }
        // A bond slave or bridge port belongs to one master only.
        var master: [String: VirtualLink] = [:]
        for link in links where link.kind != .vlan {
            for member in link.lowerLinks {
                if member == link.name { throw fail(link, "\(link.name) cannot be a member of itself") }
                if let other = master[member] {
                    throw fail(link, "\(member) is already a member of \(other.name) (\(other.origin))")
                }
                master[member] = link
            }
        }
        // Depth-first, in the order given: every link after what it is built on; a cycle is refused.
        var result: [VirtualLink] = []
        var done: Set<String> = []
        var visiting: [String] = []
        func visit(_ link: VirtualLink) throws(ParameterError) {
            if done.contains(link.name) { return }
            if let start = visiting.firstIndex(of: link.name) {
                let cycle = visiting[start...] + [link.name]
                throw fail(link, "the links form a loop: \(cycle.joined(separator: " -> "))")
            }
            visiting.append(link.name)
            for lower in link.lowerLinks {
                if let below = byName[lower] { try visit(below) }
            }
            visiting.removeLast()
            done.insert(link.name)
            result.append(link)
        }
        for link in links { try visit(link) }
        return result
    }

    /// The bond or bridge `name` is enslaved to, if any.
    public static func master(of name: String, in links: [VirtualLink]) -> VirtualLink? {
        links.first { $0.kind != .vlan && $0.lowerLinks.contains(name) }
    }

    /// The links no other link is built on (what addresses go on), in order.
    public static func topLinks(_ links: [VirtualLink]) -> [VirtualLink] {
        let lower = Set(links.flatMap(\.lowerLinks))
        return links.filter { !lower.contains($0.name) }
    }
}
