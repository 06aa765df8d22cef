/// The IFLA_INFO_DATA of the link kinds the init creates: a bond's options (IFLA_BOND_*, <linux/if_link.h>, with
/// the widths of the kernel's `bond_policy` in drivers/net/bonding/bond_netlink.c), a VLAN's id, a bridge's
/// forward delay. Kernel ABI, written out as `NetlinkConstants` is.
public enum BondAttribute {
    /// How an option's value is encoded.
    public enum Width: Sendable, Hashable {
        case u8, u16, u32
        /// A slave's interface index (u32), known once it exists.
        case interfaceIndex
        /// Nested IPv4 addresses (network byte order), one attribute each.
        case ipv4List
        /// Six bytes.
        case mac
    }

    public static let mode: UInt16 = 1

    /// IFLA_BOND_* by the sysfs option name.
    public static let byOptionName: [String: (type: UInt16, width: Width)] = [
        "active_slave": (2, .interfaceIndex),
        "miimon": (3, .u32),
        "updelay": (4, .u32),
        "downdelay": (5, .u32),
        "use_carrier": (6, .u8),
        "arp_interval": (7, .u32),
        "arp_ip_target": (8, .ipv4List),
        "arp_validate": (9, .u32),
        "arp_all_targets": (10, .u32),
        "primary": (11, .interfaceIndex),
        "primary_reselect": (12, .u8),
        "fail_over_mac": (13, .u8),
        "xmit_hash_policy": (14, .u8),
        "resend_igmp": (15, .u32),
        "num_grat_arp": (16, .u8),
        "all_slaves_active": (17, .u8),
        "min_links": (18, .u32),
        "lp_interval": (19, .u32),
        "packets_per_slave": (20, .u32),
        "lacp_rate": (21, .u8),
        "ad_select": (22, .u8),
        "ad_actor_sys_prio": (24, .u16),
        "ad_user_port_key": (25, .u16),
        "ad_actor_system": (26, .mac),
        "tlb_dynamic_lb": (27, .u8),
        "peer_notif_delay": (28, .u32),
        "lacp_active": (29, .u8),
        "arp_missed_max": (30, .u8),
    ]
}

/// One IFLA_INFO_DATA attribute, already encoded (type and payload, or nested attributes).
public struct LinkDataAttribute: Sendable, Hashable {
    public var type: UInt16
    public var payload: [UInt8]
    public var nested: Bool

    public init(type: UInt16, payload: [UInt8], nested: Bool = false) {
        self.type = type
        self.payload = payload
        self.nested = nested
    }

    public static func u8(_ type: UInt16, _ value: UInt8) -> LinkDataAttribute {
        LinkDataAttribute(type: type, payload: [value])
    }

    public static func u16(_ type: UInt16, _ value: UInt16) -> LinkDataAttribute {
        LinkDataAttribute(type: type, payload: withUnsafeBytes(of: value) { Array($0) })
    }

    public static func u32(_ type: UInt16, _ value: UInt32) -> LinkDataAttribute {
        LinkDataAttribute(type: type, payload: withUnsafeBytes(of: value) { Array($0) })
    }

    /// Nested IPv4 addresses, as iproute2 sends IFLA_BOND_ARP_IP_TARGET (attribute type = position).
    public static func ipv4List(_ type: UInt16, _ addresses: [IPv4Address]) -> LinkDataAttribute {
        var inner = NetlinkWriter()
        for (position, address) in addresses.enumerated() {
            inner.appendAttribute(type: UInt16(truncatingIfNeeded: position), payload: address.bytes)
        }
        return LinkDataAttribute(type: type, payload: inner.bytes, nested: true)
    }
}

/// What a new link is, for RTM_NEWLINK's IFLA_LINKINFO.
public enum NewLinkKind: Sendable, Hashable {
    /// The bonding driver, with IFLA_BOND_* attributes (the mode first).
    case bond([LinkDataAttribute])
    /// An 802.1Q VLAN with this id on the parent interface index.
    case vlan(id: UInt16, parentIndex: Int32)
    /// A bridge; forward delay in the kernel's clock_t (1/100 s), 0 to forward at once as dracut sets it.
    case bridge(forwardDelay: UInt32)

    /// IFLA_INFO_KIND.
    public var kindName: String {
        switch self {
        case .bond: "bond"
        case .vlan: "vlan"
        case .bridge: "bridge"
        }
    }

    var data: [LinkDataAttribute] {
        switch self {
        case .bond(let attributes): attributes
        case .vlan(let id, _): [.u16(NetlinkConstants.vlanAttributeID, id)]
        case .bridge(let delay): [.u32(NetlinkConstants.bridgeAttributeForwardDelay, delay)]
        }
    }
}
