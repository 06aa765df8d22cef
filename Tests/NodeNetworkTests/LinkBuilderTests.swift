import BootConfig
import NodeSys
import Testing

@testable import NodeNetwork

/// What a bond's options become on the wire: the IFLA_BOND_* attribute and width of each option `bond=` accepts.
@Suite struct LinkBuilderTests {
    @Test func everyAcceptedBondOptionHasAKernelAttribute() {
        let missing = VirtualLinkSpec.bondOptionNames.filter { BondAttribute.byOptionName[$0] == nil }
        #expect(missing.isEmpty, "no IFLA_BOND_* for \(missing)")
        let unused = BondAttribute.byOptionName.keys.filter { !VirtualLinkSpec.bondOptionNames.contains($0) }
        #expect(unused.isEmpty, "IFLA_BOND_* never produced: \(unused)")
    }

    static func bond(_ text: String) throws -> BondSettings {
        let links = try BootPlanner.planNetwork(KernelCommandLine(text)).network.links
        return try #require(links.first?.bond)
    }

    @Test func creationAttributesCarryTheModeFirstAndEachOptionInItsWidth() throws {
        let settings = try Self.bond(
            "bond=bond0:eth0,eth1:mode=802.3ad,miimon=100,lacp_rate=fast,ad_actor_sys_prio=300,"
                + "arp_ip_target=10.0.0.1;10.0.0.2,ad_actor_system=02-00-00-00-00-01,primary=eth1")
        let attributes = LinkBuilder.bondAttributes(settings, slaveIndex: nil)
        #expect(
            attributes == [
                .u8(1, 4),  // IFLA_BOND_MODE 802.3ad
                .u32(3, 100),  // IFLA_BOND_MIIMON
                .u8(21, 1),  // IFLA_BOND_AD_LACP_RATE fast
                .u16(24, 300),  // IFLA_BOND_AD_ACTOR_SYS_PRIO
                .ipv4List(8, [IPv4Address(10, 0, 0, 1), IPv4Address(10, 0, 0, 2)]),
                LinkDataAttribute(type: 26, payload: [2, 0, 0, 0, 0, 1]),
            ])
        // primary names a slave: only in the late pass, by its index.
        let late = LinkBuilder.bondAttributes(settings, slaveIndex: { $0 == "eth1" ? 5 : nil })
        #expect(late == [.u32(11, 5)])
    }

    @Test func theDefaultBondIsBalanceRoundRobinWithNothingElse() throws {
        let settings = try Self.bond("bond")
        #expect(LinkBuilder.bondAttributes(settings, slaveIndex: nil) == [.u8(1, 0)])
        #expect(LinkBuilder.bondAttributes(settings, slaveIndex: { _ in 1 }).isEmpty)
    }

    @Test func enslavedLinksAreNeverChosen() {
        let bond = NetworkLink(
            index: 5, name: "bond0", macAddress: MACAddress("52:54:00:12:34:56"), flags: 0x11043, mtu: 1500,
            operationalState: .up, carrier: true, kind: "bond")
        let slave = NetworkLink(
            index: 2, name: "eth0", macAddress: MACAddress("52:54:00:12:34:56"), flags: 0x11843, mtu: 1500,
            operationalState: .up, carrier: true, masterIndex: 5)
        // BOOTIF is the slave's MAC, which the bond shares: the bond is chosen although the slave comes first.
        let byMAC = InterfaceSelector.choose(
            from: [slave, bond], selection: InterfaceSelection(bootMAC: MACAddress("52:54:00:12:34:56")))
        #expect(byMAC == .chosen(bond))
        #expect(InterfaceSelector.choose(from: [slave, bond], selection: InterfaceSelection()) == .chosen(bond))
        #expect(
            InterfaceSelector.choose(from: [slave], selection: InterfaceSelection(interfaceName: "eth0")) == .notYet)
    }
}
