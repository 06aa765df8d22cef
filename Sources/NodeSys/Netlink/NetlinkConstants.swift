/// rtnetlink numbers from <linux/netlink.h>, <linux/rtnetlink.h>, <linux/if_link.h>, <linux/if_addr.h> and <net/if.h>.
/// They are kernel ABI (never renumbered), written out here because the Glibc module does not import the linux/ headers.
public enum NetlinkConstants {
    // Message types.
    public static let nlmsgError: UInt16 = 2
    public static let nlmsgDone: UInt16 = 3
    public static let rtmNewLink: UInt16 = 16
    public static let rtmDeleteLink: UInt16 = 17
    public static let rtmGetLink: UInt16 = 18
    public static let rtmNewAddress: UInt16 = 20
    public static let rtmDeleteAddress: UInt16 = 21
    public static let rtmGetAddress: UInt16 = 22
    public static let rtmNewRoute: UInt16 = 24
    public static let rtmGetRoute: UInt16 = 26

    // Header flags.
    public static let flagRequest: UInt16 = 0x001
    public static let flagMulti: UInt16 = 0x002
    public static let flagAcknowledge: UInt16 = 0x004
    public static let flagDump: UInt16 = 0x300  // NLM_F_ROOT | NLM_F_MATCH
    public static let flagReplace: UInt16 = 0x100
    public static let flagExclusive: UInt16 = 0x200
    public static let flagCreate: UInt16 = 0x400

    // Address families.
    public static let familyUnspecified: UInt8 = 0
    public static let familyIPv4: UInt8 = 2
    public static let familyIPv6: UInt8 = 10

    // IFLA_* link attributes.
    public static let linkAttributeAddress: UInt16 = 1
    public static let linkAttributeName: UInt16 = 3
    public static let linkAttributeMTU: UInt16 = 4
    /// IFLA_LINK: the lower device (a VLAN's parent).
    public static let linkAttributeLink: UInt16 = 5
    /// IFLA_MASTER: the bond or bridge a link is enslaved to (0 releases it).
    public static let linkAttributeMaster: UInt16 = 10
    /// IFLA_LINKINFO, nesting IFLA_INFO_KIND and IFLA_INFO_DATA.
    public static let linkAttributeLinkInfo: UInt16 = 18
    public static let linkAttributeOperationalState: UInt16 = 16
    public static let linkAttributeCarrier: UInt16 = 33

    // IFLA_INFO_* (inside IFLA_LINKINFO).
    public static let linkInfoKind: UInt16 = 1
    public static let linkInfoData: UInt16 = 2

    // IFLA_VLAN_* and IFLA_BR_* (inside IFLA_INFO_DATA).
    public static let vlanAttributeID: UInt16 = 1
    public static let bridgeAttributeForwardDelay: UInt16 = 1

    /// NLA_F_NESTED, set on attributes that hold attributes.
    public static let attributeNested: UInt16 = 0x8000

    // IFA_* address attributes.
    public static let addressAttributeAddress: UInt16 = 1
    public static let addressAttributeLocal: UInt16 = 2
    public static let addressAttributeLabel: UInt16 = 3
    public static let addressAttributeBroadcast: UInt16 = 4

    // RTA_* route attributes.
    public static let routeAttributeDestination: UInt16 = 1
    public static let routeAttributeOutputInterface: UInt16 = 4
    public static let routeAttributeGateway: UInt16 = 5
    public static let routeAttributePriority: UInt16 = 6
    public static let routeAttributeTable: UInt16 = 15

    // Route table, protocol, scope, type.
    public static let routeTableMain: UInt8 = 254
    public static let routeProtocolBoot: UInt8 = 3
    public static let routeScopeUniverse: UInt8 = 0
    public static let routeScopeLink: UInt8 = 253
    public static let routeScopeHost: UInt8 = 254
    public static let routeTypeUnicast: UInt8 = 1

    // ifi_flags.
    public static let interfaceUp: UInt32 = 0x1
    public static let interfaceBroadcast: UInt32 = 0x2
    public static let interfaceLoopback: UInt32 = 0x8
    public static let interfaceRunning: UInt32 = 0x40
    public static let interfaceLowerUp: UInt32 = 0x10000

    /// Size of `struct nlmsghdr`.
    public static let headerSize = 16
}
