import BootConfig
import Logging
import NodeSys

/// Creates the plan's bonds, VLANs and bridges over rtnetlink, in the plan's order (each after the links it is
/// built on), as dracut's network-legacy ifup.sh does with `ip link` and sysfs:
///
/// - a bond is created down with its mode and options, each slave is set down and enslaved (the bonding driver
///   refuses a slave that is up) and set up again, then `primary`/`active_slave` (which name a slave) and the MTU;
/// - a VLAN is created on its parent, which is set up first;
/// - a bridge is created with forward delay 0 (dracut writes 0 to `bridge/forward_delay`), then its ports are
///   enslaved and set up.
///
/// Every created link is set up. A link that already exists with the planned kind (a retried bring-up) is reused,
/// and its missing members are enslaved; a name held by a link of another kind is an error.
public enum LinkBuilder {
    public enum Error: Swift.Error, Sendable, CustomStringConvertible {
        case missingLowerLink(link: String, lower: String, waitedSeconds: Int64, links: [String])
        case nameTaken(link: String, kind: String, existingKind: String)
        case netlink(step: String, link: String, RouteNetlink.Error)

        public var description: String {
            switch self {
            case .missingLowerLink(let link, let lower, let waited, let links):
                "network: \(link) needs \(lower), which did not appear within \(waited) s (links: "
                    + (links.isEmpty ? "none" : links.joined(separator: ", ")) + ")"
            case .nameTaken(let link, let kind, let existing):
                "network: cannot create \(kind) \(link): an interface of kind \(existing) already has that name"
            case .netlink(let step, let link, let error): "network: \(step) for \(link): \(error)"
            }
        }
    }

    /// Builds `links`, waiting up to `timeout` for the interfaces they are built on (drivers may still be probing).
    /// `renames` (`ifname=`) are applied first, so a bond may name its slaves by their new names.
    public static func build(
        _ links: [VirtualLink], renames: [InterfaceRename], timeout: Duration, log: Logger
    ) throws(Error) {
        guard !links.isEmpty else { return }
        let netlink: RouteNetlink
        do {
            netlink = try RouteNetlink()
        } catch {
            throw .netlink(step: "open rtnetlink", link: "-", error)
        }
        try build(links, renames: renames, timeout: timeout, netlink: netlink, log: log)
    }

    public static func build(
        _ links: [VirtualLink], renames: [InterfaceRename], timeout: Duration, netlink: RouteNetlink, log: Logger
    ) throws(Error) {
        let planned = Set(links.map(\.name))
        let physical = Set(links.flatMap(\.lowerLinks)).subtracting(planned)
        try waitForLinks(physical, neededBy: links, renames: renames, timeout: timeout, netlink: netlink, log: log)
        for link in links {
            let start = ContinuousClock.now
            switch link.kind {
            case .bond: try buildBond(link, netlink: netlink, log: log)
            case .vlan: try buildVLAN(link, netlink: netlink, log: log)
            case .bridge: try buildBridge(link, netlink: netlink, log: log)
            }
            let (seconds, attoseconds) = start.duration(to: .now).components
            log.info(
                "network: \(link.kind.rawValue) \(link.name) built",
                metadata: [
                    "over": "\(link.lowerLinks.joined(separator: ","))",
                    "ms": "\(seconds * 1000 + attoseconds / 1_000_000_000_000_000)", "origin": "\(link.origin)",
                ])
        }
    }

    // MARK: Steps

    private static func waitForLinks(
        _ names: Set<String>, neededBy links: [VirtualLink], renames: [InterfaceRename], timeout: Duration,
        netlink: RouteNetlink, log: Logger
    ) throws(Error) {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            let current: [NetworkLink]
            do {
                var listed = try netlink.links()
                if try NetworkConfigurator.applyRenames(renames, links: listed, netlink: netlink, log: log) {
                    listed = try netlink.links()
                }
                current = listed
            } catch {
                throw .netlink(step: "list and rename links", link: "-", error)
            }
            let present = Set(current.map(\.name))
            let missing = names.subtracting(present).sorted()
            guard let first = missing.first else { return }
            if ContinuousClock.now >= deadline {
                let user = links.first { $0.lowerLinks.contains(first) }?.name ?? "-"
                throw .missingLowerLink(
                    link: user, lower: first, waitedSeconds: timeout.components.seconds,
                    links: current.map { "\($0.name) \($0.macAddress?.description ?? "-")" })
            }
            Pause.sleep(milliseconds: 100)
        }
    }

    /// The link named `name`, created as `kind` unless it exists already with that kind (then `created` is false).
    private static func ensure(
        _ link: VirtualLink, kind: NewLinkKind, netlink: RouteNetlink, log: Logger
    ) throws(Error) -> (link: NetworkLink, created: Bool) {
        if let existing = try find(link.name, netlink: netlink) {
            guard existing.kind == kind.kindName else {
                throw .nameTaken(link: link.name, kind: kind.kindName, existingKind: existing.kind ?? "physical")
            }
            log.info("network: \(kind.kindName) \(link.name) exists already, reusing it")
            return (existing, false)
        }
        do {
            try netlink.createLink(name: link.name, kind: kind)
        } catch {
            throw .netlink(step: "create \(kind.kindName)", link: link.name, error)
        }
        guard let created = try find(link.name, netlink: netlink) else {
            throw .netlink(step: "find the new \(kind.kindName)", link: link.name, .noSuchLink(link.name))
        }
        return (created, true)
    }

    private static func find(_ name: String, netlink: RouteNetlink) throws(Error) -> NetworkLink? {
        do {
            return try netlink.links().first { $0.name == name }
        } catch {
            throw .netlink(step: "list links", link: name, error)
        }
    }

    private static func required(_ name: String, for link: VirtualLink, netlink: RouteNetlink) throws(Error)
        -> NetworkLink
    {
        guard let found = try find(name, netlink: netlink) else {
            throw .missingLowerLink(link: link.name, lower: name, waitedSeconds: 0, links: [])
        }
        return found
    }

    private static func setUp(_ link: NetworkLink, for owner: String, netlink: RouteNetlink) throws(Error) {
        guard !link.isUp else { return }
        do {
            try netlink.setLinkUp(index: link.index)
        } catch {
            throw .netlink(step: "set \(link.name) up", link: owner, error)
        }
    }

    /// Enslaves `member` to `master` unless it already is; `downFirst` for bonds (the driver wants slaves down).
    private static func enslave(
        _ member: NetworkLink, to master: NetworkLink, downFirst: Bool, netlink: RouteNetlink, log: Logger
    ) throws(Error) {
        if member.masterIndex == master.index { return }
        do {
            if downFirst && member.isUp { try netlink.setLinkDown(index: member.index) }
            try netlink.setMaster(index: member.index, masterIndex: master.index)
        } catch {
            throw .netlink(step: "enslave \(member.name)", link: master.name, error)
        }
        log.debug("network: \(member.name) enslaved to \(master.name)")
    }

    /// The IFLA_BOND_* attributes of the bond's mode and options; the slave-naming ones only with `slaveIndex`.
    static func bondAttributes(_ settings: BondSettings, slaveIndex: ((String) -> Int32?)?) -> [LinkDataAttribute] {
        var attributes: [LinkDataAttribute] = []
        if slaveIndex == nil { attributes.append(.u8(BondAttribute.mode, settings.mode.kernelValue)) }
        for option in settings.options {
            guard let (type, width) = BondAttribute.byOptionName[option.name] else { continue }
            switch width {
            case .interfaceIndex:
                guard let slaveIndex, let name = option.interface, let index = slaveIndex(name) else { continue }
                attributes.append(.u32(type, UInt32(bitPattern: index)))
            case _ where slaveIndex != nil:
                continue
            case .u8: attributes.append(.u8(type, UInt8(truncatingIfNeeded: option.number)))
            case .u16: attributes.append(.u16(type, UInt16(truncatingIfNeeded: option.number)))
            case .u32: attributes.append(.u32(type, option.number))
            case .ipv4List: attributes.append(.ipv4List(type, option.addresses.compactMap(\.ipv4)))
            case .mac:
                if let mac = option.mac { attributes.append(LinkDataAttribute(type: type, payload: mac.bytes)) }
            }
        }
        return attributes
    }

    private static func buildBond(_ link: VirtualLink, netlink: RouteNetlink, log: Logger) throws(Error) {
        let settings = link.bond ?? BondSettings(mode: .balanceRR, options: [])
        let creation = bondAttributes(settings, slaveIndex: nil)
        var (bond, created) = try ensure(link, kind: .bond(creation), netlink: netlink, log: log)
        if !created {
            // A bond made by the driver itself (bonding.max_bonds=) or by an earlier try: the mode can only change
            // while it is down and has no slaves, so the settings are applied then, and left as they are otherwise.
            let links: [NetworkLink]
            do {
                links = try netlink.links()
            } catch {
                throw .netlink(step: "list links", link: link.name, error)
            }
            if links.contains(where: { $0.masterIndex == bond.index }) {
                log.info("network: bond \(link.name) has slaves already, its settings are left as they are")
            } else {
                do {
                    if bond.isUp { try netlink.setLinkDown(index: bond.index) }
                    try netlink.changeLinkData(index: bond.index, kind: "bond", data: creation)
                } catch {
                    throw .netlink(step: "apply mode and options", link: link.name, error)
                }
            }
        }
        var slaveIndices: [String: Int32] = [:]
        for name in link.lowerLinks {
            let slave = try required(name, for: link, netlink: netlink)
            try enslave(slave, to: bond, downFirst: true, netlink: netlink, log: log)
            slaveIndices[name] = slave.index
            try setUp(try required(name, for: link, netlink: netlink), for: link.name, netlink: netlink)
        }
        bond = try required(link.name, for: link, netlink: netlink)
        try setUp(bond, for: link.name, netlink: netlink)
        let late = bondAttributes(settings, slaveIndex: { slaveIndices[$0] })
        if !late.isEmpty {
            do {
                try netlink.changeLinkData(index: bond.index, kind: "bond", data: late)
            } catch {
                throw .netlink(step: "set primary/active_slave", link: link.name, error)
            }
        }
        if let mtu = link.mtu, bond.mtu != UInt32(mtu) {
            do {
                try netlink.setMTU(index: bond.index, mtu: UInt32(mtu))
            } catch {
                throw .netlink(step: "set mtu \(mtu)", link: link.name, error)
            }
        }
    }

    private static func buildVLAN(_ link: VirtualLink, netlink: RouteNetlink, log: Logger) throws(Error) {
        guard let parentName = link.lowerLinks.first, let id = link.vlanID else {
            throw .missingLowerLink(link: link.name, lower: "a parent", waitedSeconds: 0, links: [])
        }
        let parent = try required(parentName, for: link, netlink: netlink)
        try setUp(parent, for: link.name, netlink: netlink)
        let vlan = try ensure(
            link, kind: .vlan(id: UInt16(clamping: id), parentIndex: parent.index), netlink: netlink, log: log)
        try setUp(vlan.link, for: link.name, netlink: netlink)
    }

    private static func buildBridge(_ link: VirtualLink, netlink: RouteNetlink, log: Logger) throws(Error) {
        let bridge = try ensure(link, kind: .bridge(forwardDelay: 0), netlink: netlink, log: log).link
        for name in link.lowerLinks {
            let port = try required(name, for: link, netlink: netlink)
            try enslave(port, to: bridge, downFirst: false, netlink: netlink, log: log)
            try setUp(try required(name, for: link, netlink: netlink), for: link.name, netlink: netlink)
        }
        try setUp(try required(link.name, for: link, netlink: netlink), for: link.name, netlink: netlink)
    }
}
