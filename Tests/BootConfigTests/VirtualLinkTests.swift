import Foundation
import Testing

@testable import BootConfig

/// `bond=`, `vlan=`, `bridge=`: the forms of dracut.cmdline(7) and network-legacy's parse-bond.sh, parse-vlan.sh and
/// parse-bridge.sh, the command lines of dracut's own TEST-60-BONDBRIDGEVLANIFCFG and TEST-60-NFS, and what nodeinit
/// refuses that dracut would turn into a failed `ip link` at boot.
@Suite struct VirtualLinkTests {
    static func links(_ text: String) throws -> [VirtualLink] {
        try BootPlanner.planNetwork(KernelCommandLine(text)).network.links
    }

    static func plan(_ text: String) throws -> BootPlan {
        try BootPlanner.plan(BootInputs(commandLine: KernelCommandLine(text)))
    }

    static func refusal(_ text: String) -> String? {
        do {
            _ = try BootPlanner.planNetwork(KernelCommandLine(text))
            return nil
        } catch {
            return "\(error)"
        }
    }

    // MARK: bond=

    struct BondCase: CustomStringConvertible, Sendable {
        var text: String
        var name: String
        var slaves: [String]
        var mode: BondMode
        var options: [String: UInt32] = [:]
        var mtu: Int? = nil
        var description: String { text }
    }

    static let bondCases: [BondCase] = [
        // "Bond without parameters assumes bond=bond0:eth0,eth1:mode=balance-rr" (dracut.cmdline(7)).
        BondCase(text: "bond", name: "bond0", slaves: ["eth0", "eth1"], mode: .balanceRR),
        // parse-bond.sh: an empty value gives an empty name, which it replaces by the same default.
        BondCase(text: "bond=", name: "bond0", slaves: ["eth0", "eth1"], mode: .balanceRR),
        BondCase(
            text: "bond=bond0:eth0,eth1:mode=balance-rr", name: "bond0", slaves: ["eth0", "eth1"], mode: .balanceRR),
        // One field: the slaves default to eth0,eth1 (parse-bond.sh case 1).
        BondCase(text: "bond=bond1", name: "bond1", slaves: ["eth0", "eth1"], mode: .balanceRR),
        // TEST-60-BONDBRIDGEVLANIFCFG.
        BondCase(text: "bond=bond0:ens4,ens5", name: "bond0", slaves: ["ens4", "ens5"], mode: .balanceRR),
        BondCase(text: "bond=bond1:ens7,ens8", name: "bond1", slaves: ["ens7", "ens8"], mode: .balanceRR),
        // TEST-50-MULTINIC's form with predictable names.
        BondCase(
            text: "bond=bond0:enp0s1,enp0s2:mode=balance-rr", name: "bond0", slaves: ["enp0s1", "enp0s2"],
            mode: .balanceRR),
        BondCase(
            text: "bond=bond0:eth0,eth1:mode=active-backup,miimon=100", name: "bond0", slaves: ["eth0", "eth1"],
            mode: .activeBackup, options: ["miimon": 100]),
        // initscripts' numeric modes (BONDING_OPTS="mode=1").
        BondCase(text: "bond=bond0:eth0,eth1:mode=1", name: "bond0", slaves: ["eth0", "eth1"], mode: .activeBackup),
        BondCase(text: "bond=bond0:eth0,eth1:mode=4", name: "bond0", slaves: ["eth0", "eth1"], mode: .ieee8023ad),
        BondCase(text: "bond=bond0:eth0,eth1:mode=6", name: "bond0", slaves: ["eth0", "eth1"], mode: .balanceALB),
        // "if the mtu is specified, it will be set on the bond master".
        BondCase(
            text: "bond=bond0:ens3f0,ens3f1:mode=802.3ad,lacp_rate=fast,xmit_hash_policy=layer3+4,miimon=100:9000",
            name: "bond0", slaves: ["ens3f0", "ens3f1"], mode: .ieee8023ad,
            options: ["lacp_rate": 1, "xmit_hash_policy": 1, "miimon": 100], mtu: 9000),
        BondCase(
            text: "bond=bond0:eth0,eth1:mode=balance-xor,xmit_hash_policy=layer2+3,min_links=1", name: "bond0",
            slaves: ["eth0", "eth1"], mode: .balanceXOR, options: ["xmit_hash_policy": 2, "min_links": 1]),
        BondCase(
            text: "bond=bond0:eth0,eth1:mode=802.3ad,ad_select=bandwidth,lacp_active=on,ad_actor_sys_prio=100",
            name: "bond0", slaves: ["eth0", "eth1"], mode: .ieee8023ad,
            options: ["ad_select": 1, "lacp_active": 1, "ad_actor_sys_prio": 100]),
        BondCase(
            text: "bond=bond0:eth0,eth1:mode=active-backup,fail_over_mac=follow,primary_reselect=failure",
            name: "bond0", slaves: ["eth0", "eth1"], mode: .activeBackup,
            options: ["fail_over_mac": 2, "primary_reselect": 2]),
        BondCase(
            text: "bond=bond0:eth0,eth1:mode=balance-tlb,tlb_dynamic_lb=0,updelay=200,downdelay=200",
            name: "bond0", slaves: ["eth0", "eth1"], mode: .balanceTLB,
            options: ["tlb_dynamic_lb": 0, "updelay": 200, "downdelay": 200]),
        // num_unsol_na is num_grat_arp's alias; numbers for named values as sysfs takes them.
        BondCase(
            text: "bond=bond0:eth0,eth1:mode=active-backup,num_unsol_na=3,arp_validate=3", name: "bond0",
            slaves: ["eth0", "eth1"], mode: .activeBackup, options: ["num_grat_arp": 3, "arp_validate": 3]),
        // Empty items between commas are skipped, as parse-bond.sh's word splitting does.
        BondCase(
            text: "bond=bond0:eth0,,eth1:mode=active-backup,,miimon=50", name: "bond0", slaves: ["eth0", "eth1"],
            mode: .activeBackup, options: ["miimon": 50]),
        // A single slave is a bond all the same.
        BondCase(text: "bond=bond0:eth2", name: "bond0", slaves: ["eth2"], mode: .balanceRR),
    ]

    @Test(arguments: bondCases) func bondForms(_ bondCase: BondCase) throws {
        let links = try Self.links(bondCase.text)
        let link = try #require(links.first)
        #expect(links.count == 1)
        #expect(link.kind == .bond)
        #expect(link.name == bondCase.name)
        #expect(link.lowerLinks == bondCase.slaves)
        #expect(link.bond?.mode == bondCase.mode)
        #expect(link.mtu == bondCase.mtu)
        var options: [String: UInt32] = [:]
        for option in link.bond?.options ?? [] { options[option.name] = option.number }
        #expect(options == bondCase.options)
    }

    @Test func arpTargetsAreSemicolonSeparated() throws {
        // dracut.cmdline(7): "If <options> includes multi-valued arp_ip_target option, then its values should be
        // separated by semicolon"; ifup.sh also takes initscripts' `+` prefix.
        let link = try #require(
            try Self.links(
                "bond=bond0:eth0,eth1:mode=active-backup,arp_interval=1000,arp_ip_target=192.168.1.1;+192.168.1.254"
            ).first)
        let target = try #require(link.bond?.options.first { $0.name == "arp_ip_target" })
        #expect(target.addresses == [address("192.168.1.1"), address("192.168.1.254")])
        #expect(link.bond?.options.first { $0.name == "arp_interval" }?.number == 1000)
    }

    @Test func primaryAndActiveSlaveNameASlave() throws {
        let link = try #require(
            try Self.links("bond=bond0:eth0,eth1:mode=active-backup,primary=eth1,active_slave=eth1").first)
        #expect(link.bond?.options.map(\.interface) == ["eth1", "eth1"])
        #expect(
            Self.refusal("bond=bond0:eth0,eth1:mode=active-backup,primary=eth2")
                == "bond=\"bond0:eth0,eth1:mode=active-backup,primary=eth2\": primary=eth2 names no slave of bond0 (slaves: eth0,eth1)"
        )
    }

    @Test func actorSystemIsAMACWrittenWithDashes() throws {
        // `:` separates bond='s fields (parse-bond.sh splits on every one), so the MAC is written with `-`.
        let link = try #require(try Self.links("bond=bond0:eth0,eth1:mode=4,ad_actor_system=02-00-00-00-00-01").first)
        #expect(link.bond?.options.first?.mac == MACAddress("02:00:00:00:00:01"))
        #expect(
            Self.refusal("bond=bond0:eth0,eth1:mode=4,ad_actor_system=02:00:00:00:00:01")?.contains(
                "at most four fields") == true)
    }

    static let bondRefusalsTable: [(String, String)] = [
        ("bond=bond0:eth0,eth1:mode=fast", "unknown bond mode \"fast\""),
        ("bond=bond0:eth0,eth1:mode=7", "unknown bond mode \"7\""),
        (
            "bond=bond0:eth0,eth1:mode=active-backup,miimon=abc",
            "bond option miimon=abc: expected a number in 0...2147483647"
        ),
        ("bond=bond0:eth0,eth1:miimon=-1", "bond option miimon=-1: expected a number"),
        ("bond=bond0:eth0,eth1:miimon=99999999999", "bond option miimon=99999999999: expected a number"),
        (
            "bond=bond0:eth0,eth1:lacp_rate=medium",
            "bond option lacp_rate=medium: expected one of slow, fast or its number"
        ),
        ("bond=bond0:eth0,eth1:xmit_hash_policy=layer4", "expected one of layer2, layer3+4, layer2+3"),
        ("bond=bond0:eth0,eth1:frobnicate=1", "unknown bond option \"frobnicate\" (known: mode, active_slave"),
        ("bond=bond0:eth0,eth1:miimon", "bond option \"miimon\" is not <name>=<value>"),
        ("bond=bond0:eth0,eth1:miimon=", "bond option miimon has no value"),
        ("bond=bond0:eth0,eth1:miimon=100,miimon=200", "bond option miimon is given twice"),
        ("bond=bond0:eth0,eth1:num_grat_arp=1,num_unsol_na=2", "bond option num_unsol_na is given twice"),
        ("bond=bond0:eth0,eth1:max_bonds=2", "max_bonds is a module parameter (bonding.max_bonds=)"),
        ("bond=bond0:eth0,eth1:resend_igmp=256", "bond option resend_igmp=256: expected a number in 0...255"),
        ("bond=bond0:eth0,eth1:ad_actor_sys_prio=0", "expected a number in 1...65535"),
        ("bond=bond0:eth0,eth1:arp_ip_target=10.0.0.300", "arp_ip_target: \"10.0.0.300\" is not an IPv4 address"),
        ("bond=bond0:eth0,eth1:arp_ip_target=fe80::1", "at most four fields, 5 given"),
        ("bond=bond0:eth0,eth1:arp_ip_target=10.0.0.1;10.0.0.1", "arp_ip_target: 10.0.0.1 is listed twice"),
        ("bond=bond0:eth0,eth1:arp_ip_target=;", "arp_ip_target has no address"),
        ("bond=bond0:eth0,eth1:ad_actor_system=02-00", "bond option ad_actor_system: bad MAC address"),
        ("bond=bond0::mode=active-backup", "the slave list is empty"),
        ("bond=bond0:,:mode=active-backup", "the slave list is empty"),
        ("bond=bond0:eth0,eth0", "slave eth0 is listed twice"),
        ("bond=bond0:eth0,eth1:mode=1:9000:x", "at most four fields, 5 given"),
        ("bond=bond0:eth0,eth1:mode=1:67", "bad MTU \"67\" (68...65535)"),
        ("bond=bond0:eth0,eth1:mode=1:jumbo", "bad MTU \"jumbo\""),
        ("bond=:eth2,eth3", "the bond has no name"),
        ("bond=bond-with-a-very-long-name:eth0", "bad bond name"),
        ("bond=bond0:eth0,eth1 bond=bond0:eth2,eth3", "bond0 is already created by bond=bond0:eth0,eth1"),
        ("bond=bond0:bond0", "bond0 cannot be a member of itself"),
        ("bond=bond0:eth0,eth1 bond=bond1:eth1,eth2", "eth1 is already a member of bond0 (bond=bond0:eth0,eth1)"),
    ]

    @Test(arguments: bondRefusalsTable) func bondRefusals(_ text: String, _ expected: String) {
        let message = Self.refusal(text)
        #expect(message?.contains(expected) == true, "\(text): \(message ?? "accepted")")
        #expect(message?.hasPrefix("bond=") == true, "\(text): \(message ?? "accepted")")
    }

    // MARK: vlan=

    static let vlanCases: [(String, String, String, Int)] = [
        // The four name styles of dracut.cmdline(7), as TEST-60-BONDBRIDGEVLANIFCFG writes them.
        ("vlan=vlan0001:ens6", "vlan0001", "ens6", 1),
        ("vlan=vlan2:ens6", "vlan2", "ens6", 2),
        ("vlan=ens6.3:ens6", "ens6.3", "ens6", 3),
        ("vlan=ens6.0004:ens6", "ens6.0004", "ens6", 4),
        ("vlan=vlan0005:eth0", "vlan0005", "eth0", 5),
        ("vlan=vlan5:eth0", "vlan5", "eth0", 5),
        ("vlan=eth0.0005:eth0", "eth0.0005", "eth0", 5),
        ("vlan=eth0.5:eth0", "eth0.5", "eth0", 5),
        ("vlan=vlan4094:eth0", "vlan4094", "eth0", 4094),
        ("vlan=eno1.100:eno1", "eno1.100", "eno1", 100),
        // get_vid does not compare the name's device with the parent.
        ("vlan=mgmt.20:eth1", "mgmt.20", "eth1", 20),
    ]

    @Test(arguments: vlanCases) func vlanForms(_ text: String, _ name: String, _ parent: String, _ id: Int) throws {
        let links = try Self.links(text)
        #expect(links.count == 1)
        #expect(links.first?.kind == .vlan)
        #expect(links.first?.name == name)
        #expect(links.first?.lowerLinks == [parent])
        #expect(links.first?.vlanID == id)
    }

    static let vlanRefusalsTable: [(String, String)] = [
        ("vlan", "expected <vlanname>:<phydevice>"),
        ("vlan=", "expected <vlanname>:<phydevice>"),
        ("vlan=vlan5", "expected <vlanname>:<phydevice>"),
        ("vlan=vlan5:", "expected <vlanname>:<phydevice>"),
        ("vlan=:eth0", "expected <vlanname>:<phydevice>"),
        ("vlan=vlan5:eth0:extra", "expected <vlanname>:<phydevice>"),
        ("vlan=vlan0:eth0", "VLAN id 0 is outside 1...4094"),
        ("vlan=vlan4095:eth0", "VLAN id 4095 is outside 1...4094"),
        ("vlan=eth0.0:eth0", "VLAN id 0 is outside 1...4094"),
        ("vlan=eth0.9999:eth0", "VLAN id 9999 is outside 1...4094"),
        ("vlan=mgmt:eth0", "cannot take the VLAN id from the name \"mgmt\""),
        ("vlan=vlanX:eth0", "cannot take the VLAN id from the name \"vlanX\""),
        ("vlan=eth0.:eth0", "cannot take the VLAN id"),
        ("vlan=.5:eth0", "cannot take the VLAN id"),
        ("vlan=eth0.5a:eth0", "cannot take the VLAN id"),
        ("vlan=eth0.5:eth0.5", "cannot be its own parent"),
        ("vlan=vlan5:eth0 vlan=vlan5:eth1", "vlan5 is already created by vlan=vlan5:eth0"),
    ]

    @Test(arguments: vlanRefusalsTable) func vlanRefusals(_ text: String, _ expected: String) {
        let message = Self.refusal(text)
        #expect(message?.contains(expected) == true, "\(text): \(message ?? "accepted")")
        #expect(message?.hasPrefix("vlan=") == true, "\(text): \(message ?? "accepted")")
    }

    // MARK: bridge=

    static let bridgeCases: [(String, String, [String])] = [
        // "Bridge without parameters assumes bridge=br0:eth0" (dracut.cmdline(7)).
        ("bridge", "br0", ["eth0"]),
        ("bridge=br0:eth0", "br0", ["eth0"]),
        // TEST-60-BONDBRIDGEVLANIFCFG and TEST-60-NFS.
        ("bridge=br0:ens4,ens5", "br0", ["ens4", "ens5"]),
        ("bridge=br1:ens7,ens8", "br1", ["ens7", "ens8"]),
        ("bridge=foobr0:enp0s1", "foobr0", ["enp0s1"]),
    ]

    @Test(arguments: bridgeCases) func bridgeForms(_ text: String, _ name: String, _ ports: [String]) throws {
        let links = try Self.links(text)
        #expect(links.count == 1)
        #expect(links.first?.kind == .bridge)
        #expect(links.first?.name == name)
        #expect(links.first?.lowerLinks == ports)
    }

    static let bridgeRefusalsTable: [(String, String)] = [
        // parse-bridge.sh: "bridge= requires two parameters" for one field or three.
        ("bridge=br0", "expected <bridgename>:<ethnames>"),
        ("bridge=", "expected <bridgename>:<ethnames>"),
        ("bridge=br0:eth0:eth1", "expected <bridgename>:<ethnames>"),
        ("bridge=:eth0", "expected <bridgename>:<ethnames>"),
        ("bridge=br0:", "the port list is empty"),
        ("bridge=br0:eth0,eth0", "port eth0 is listed twice"),
        ("bridge=br0:eth/0", "bad port name"),
        ("bridge=br0:eth0 bridge=br1:eth0", "eth0 is already a member of br0"),
        ("bridge=br0:eth0 bridge=br0:eth1", "br0 is already created by bridge=br0:eth0"),
    ]

    @Test(arguments: bridgeRefusalsTable) func bridgeRefusals(_ text: String, _ expected: String) {
        let message = Self.refusal(text)
        #expect(message?.contains(expected) == true, "\(text): \(message ?? "accepted")")
        #expect(message?.hasPrefix("bridge=") == true, "\(text): \(message ?? "accepted")")
    }

    // MARK: Together

    @Test func vlanOverABondComesAfterTheBondWhateverTheOrderGiven() throws {
        let links = try Self.links("vlan=bond0.100:bond0 bond=bond0:eth0,eth1:mode=active-backup ip=bond0.100:dhcp")
        #expect(links.map(\.name) == ["bond0", "bond0.100"])
        let plan = try Self.plan(
            "root=nfs:10.0.0.1:/img vlan=bond0.100:bond0 bond=bond0:eth0,eth1:mode=active-backup ip=bond0.100:dhcp")
        #expect(plan.network.interfaces.map(\.selector) == [.name("bond0.100")])
    }

    @Test func bondInABridgeAndVLANsOnTheBridge() throws {
        let links = try Self.links(
            "bridge=br0:bond0 vlan=br0.7:br0 bond=bond0:eth0,eth1:mode=802.3ad,miimon=100 ip=br0.7:dhcp")
        #expect(links.map(\.name) == ["bond0", "br0", "br0.7"])
        #expect(links.map(\.kind) == [.bond, .bridge, .vlan])
    }

    @Test func aBondOfVLANsIsBuiltAfterItsVLANs() throws {
        // ifup.sh's bond path first brings up each slave, "maybe vlan or bridge".
        let links = try Self.links("bond=bond0:eth0.10,eth1.10 vlan=eth0.10:eth0 vlan=eth1.10:eth1")
        #expect(links.map(\.name) == ["eth0.10", "eth1.10", "bond0"])
    }

    @Test func loopsAreRefused() {
        #expect(
            Self.refusal("bond=bond0:br0 bridge=br0:bond0")?.contains("the links form a loop: bond0 -> br0 -> bond0")
                == true)
        #expect(
            Self.refusal("bond=bond0:bond0.5 vlan=bond0.5:bond0")?.contains(
                "the links form a loop: bond0 -> bond0.5 -> bond0") == true)
        #expect(Self.refusal("vlan=vlan5:vlan6 vlan=vlan6:vlan5")?.contains("the links form a loop") == true)
    }

    @Test func namesAreUniqueAcrossKinds() {
        #expect(
            Self.refusal("bond=br0:eth0,eth1 bridge=br0:eth2")
                == "bridge=\"br0:eth2\": br0 is already created by bond=br0:eth0,eth1")
        #expect(Self.refusal("bond=vlan5:eth0,eth1 vlan=vlan5:eth2")?.contains("vlan5 is already created") == true)
        #expect(
            Self.refusal("bond=bond0:eth0,eth1 bridge=br0:eth1")?.contains("eth1 is already a member of bond0") == true)
    }

    @Test func addressesGoOnTheMasterNotItsSlaves() {
        #expect(
            Self.refusal("bond=bond0:eth0,eth1 ip=eth0:dhcp")
                == "ip=\"eth0:dhcp\": eth0 is enslaved to bond0 (bond=bond0:eth0,eth1): configure bond0 instead")
        #expect(
            Self.refusal("bridge ip=10.0.0.5::10.0.0.1:24::eth0:none")?.contains(
                "eth0 is enslaved to br0 (bridge (default))") == true)
        #expect(
            Self.refusal("bond=bond0:eth0,eth1 ip=bond0:dhcp bootdev=eth1")?.contains(
                "bootdev=\"eth1\": eth1 is enslaved to bond0") == true)
        // A VLAN's parent may carry its own untagged address (TEST-60: ip=ens4:dhcp beside VLANs on ens6; here the
        // same device).
        #expect(Self.refusal("vlan=eth0.5:eth0 ip=eth0:dhcp ip=eth0.5:dhcp bootdev=eth0") == nil)
    }

    @Test func theTestSuitesMultiVLANCommandLine() throws {
        let plan = try Self.plan(
            """
            vlan=vlan0001:ens6 vlan=vlan2:ens6 vlan=ens6.3:ens6 vlan=ens6.0004:ens6 ip=ens4:dhcp \
            ip=192.168.54.101::192.168.54.1:24:test:vlan0001:none ip=192.168.55.102::192.168.55.1:24:test:vlan2:none \
            ip=192.168.56.103::192.168.56.1:24:test:ens6.3:none ip=192.168.57.104::192.168.57.1:24:test:ens6.0004:none \
            rd.neednet=1 root=nfs:192.168.50.1:/nfs/client bootdev=ens4
            """)
        #expect(plan.network.links.map(\.name) == ["vlan0001", "vlan2", "ens6.3", "ens6.0004"])
        #expect(plan.network.links.map(\.vlanID) == [1, 2, 3, 4])
        #expect(plan.network.interfaces.first?.selector == .name("ens4"))
        #expect(plan.network.interfaces.count == 5)
        #expect(plan.modules.load.contains { $0.name == "8021q" && $0.reason == "vlan=" })
        #expect(!plan.modules.load.contains { $0.name == "bonding" || $0.name == "bridge" })
    }

    @Test func theTestSuitesMultiBondAndMultiBridgeCommandLines() throws {
        let bonds = try Self.plan(
            "bond=bond0:ens4,ens5 bond=bond1:ens7,ens8 ip=bond0:dhcp ip=bond1:dhcp rd.neednet=1 "
                + "root=nfs:192.168.50.1:/nfs/client bootdev=bond0")
        #expect(bonds.network.links.map(\.name) == ["bond0", "bond1"])
        #expect(bonds.network.interfaces.map(\.selector) == [.name("bond0"), .name("bond1")])
        #expect(bonds.modules.load.contains { $0.name == "bonding" && $0.reason == "bond=" })
        let bridges = try Self.plan(
            "bridge=br0:ens4,ens5 bridge=br1:ens7,ens8 ip=br0:dhcp ip=br1:dhcp rd.neednet=1 "
                + "root=nfs:192.168.50.1:/nfs/client bootdev=br0")
        #expect(bridges.network.links.map(\.lowerLinks) == [["ens4", "ens5"], ["ens7", "ens8"]])
        #expect(bridges.modules.load.contains { $0.name == "bridge" && $0.reason == "bridge=" })
    }

    @Test func theBondingDriverMakesNoBondOfItsOwn() throws {
        // Loaded with max_bonds=1 (its default) the driver would create a bond0 in balance-rr itself.
        let plan = try Self.plan("root=nfs:10.0.0.1:/img bond=bond0:eth0,eth1:mode=active-backup ip=bond0:dhcp")
        #expect(plan.modules.load.first { $0.name == "bonding" }?.parameters == ["max_bonds=0"])
        #expect(plan.modules.parameters.contains(ModuleParameter(module: "bonding", name: "max_bonds", value: "0")))
        // The command line's own value is kept.
        let given = try Self.plan("root=nfs:10.0.0.1:/img bond bonding.max_bonds=2 ip=bond0:dhcp")
        #expect(given.modules.load.first { $0.name == "bonding" }?.parameters == ["max_bonds=2"])
        // No bond, no bonding parameter.
        #expect(try Self.plan("root=nfs:10.0.0.1:/img vlan=eth0.5:eth0").modules.parameters.isEmpty)
    }

    @Test func anUnnamedIPMeansTheTopLink() throws {
        // TEST-60-NFS: root=dhcp bridge=foobr0:enp0s1 (no ip= at all).
        let plan = try Self.plan("root=dhcp bridge=foobr0:enp0s1")
        #expect(plan.network.interfaces.map(\.selector) == [.name("foobr0")])
        // ip=dhcp with BOOTIF: the bond, not the slave whose MAC BOOTIF is.
        let bonded = try Self.plan(
            "root=nfs:10.0.0.1:/img BOOTIF=01-52-54-00-12-34-56 bond=bond0:eth0,eth1:mode=1 ip=dhcp")
        #expect(bonded.network.interfaces.map(\.selector) == [.name("bond0")])
        // bootdev= still wins.
        let named = try Self.plan("root=nfs:10.0.0.1:/img bond bootdev=eth2 ip=dhcp")
        #expect(named.network.interfaces.map(\.selector) == [.name("eth2")])
    }

    @Test func theParametersAreKnownAndTeamWarns() throws {
        let plan = try Self.plan("root=nfs:10.0.0.1:/img bond=bond0:eth0,eth1 ip=bond0:dhcp team=team0:eth2,eth3")
        #expect(plan.warnings.contains { $0.contains("team= is not supported") })
        #expect(!plan.warnings.contains { $0.contains("unknown parameter bond") })
        // A typo of a now-known name is caught.
        let typo = try Self.plan("root=nfs:10.0.0.1:/img bnod=bond0:eth0,eth1")
        #expect(typo.warnings.contains("unknown parameter bnod: did you mean bond?"))
    }

    @Test func thePlanShowsTheLinks() throws {
        let text = try Self.plan(
            "root=nfs:10.0.0.1:/img bond=bond0:eth0,eth1:mode=active-backup,miimon=100,primary=eth1,lacp_rate=fast:9000 "
                + "vlan=bond0.100:bond0 bridge=br0:eth2 ip=bond0.100:dhcp ip=br0:dhcp"
        ).renderText()
        #expect(
            text.contains(
                "create bond bond0 over eth0, eth1: mode active-backup, miimon 100, primary eth1 (once enslaved), "
                    + "lacp_rate fast (1), mtu 9000  (bond=bond0:eth0,eth1:mode=active-backup,miimon=100,primary=eth1,"
                    + "lacp_rate=fast:9000)"))
        #expect(text.contains("create VLAN bond0.100 (id 100) on bond0  (vlan=bond0.100:bond0)"))
        #expect(text.contains("create bridge br0 with ports eth2, forward delay 0  (bridge=br0:eth2)"))
        #expect(text.contains("bonding max_bonds=0  (bond=)"))
        #expect(text.contains("8021q  (vlan=)"))
        #expect(text.contains("bridge  (bridge=)"))
    }

    @Test func thePlanRoundTripsThroughJSON() throws {
        let plan = try Self.plan(
            "root=nfs:10.0.0.1:/img bond=bond0:eth0,eth1:mode=4,arp_ip_target=10.0.0.1;10.0.0.2,ad_actor_system=02-00-00-00-00-01 "
                + "vlan=bond0.9:bond0 ip=bond0.9:dhcp")
        let data = try JSONEncoder().encode(plan)
        #expect(try JSONDecoder().decode(BootPlan.self, from: data) == plan)
    }
}
