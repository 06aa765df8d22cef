import NodeNetwork
import NodeSys
import Testing

struct PHYWaitTests {
    // Register values as QEMU's e1000 and Linux's e1000 driver leave them (IEEE 802.3 clause 22 bits).
    static let negotiating = NetworkDevice.PHYStatus(control: 0x1140, status: 0x7949)  // auto-negotiation on, no link
    static let linked = NetworkDevice.PHYStatus(control: 0x1140, status: 0x796D)  // link, negotiation complete
    static let poweredDown = NetworkDevice.PHYStatus(control: 0x1940, status: 0x7949)  // after the link was set down
    static let forced = NetworkDevice.PHYStatus(control: 0x0140, status: 0x7949)  // speed forced, no negotiation

    @Test func anE1000StillNegotiatingIsSetUpLater() {
        #expect(PHYWait.setUpLater(driver: "e1000", phy: Self.negotiating, waited: .zero))
        #expect(PHYWait.setUpLater(driver: "e1000", phy: Self.negotiating, waited: .milliseconds(1999)))
    }

    @Test func theWaitEndsAtTheWatchdogPeriod() {
        #expect(!PHYWait.setUpLater(driver: "e1000", phy: Self.negotiating, waited: .seconds(2)))
    }

    @Test(arguments: [linked, poweredDown, forced])
    func anE1000WithLinkPoweredDownOrForcedIsSetUpNow(phy: NetworkDevice.PHYStatus) {
        #expect(!PHYWait.setUpLater(driver: "e1000", phy: phy, waited: .zero))
    }

    @Test(arguments: ["e1000e", "igb", "virtio_net", "r8169", "mlx5_core"])
    func otherDriversAreSetUpNow(driver: String) {
        #expect(!PHYWait.setUpLater(driver: driver, phy: Self.negotiating, waited: .zero))
    }

    @Test func anUnreadablePHYOrNoDriverIsSetUpNow() {
        #expect(!PHYWait.setUpLater(driver: "e1000", phy: nil, waited: .zero))
        #expect(!PHYWait.setUpLater(driver: nil, phy: Self.negotiating, waited: .zero))
    }

    @Test func statusBits() {
        #expect(Self.negotiating.negotiating && !Self.negotiating.linkUp && Self.negotiating.autonegotiationEnabled)
        #expect(Self.linked.linkUp && Self.linked.autonegotiationComplete && !Self.linked.negotiating)
        #expect(Self.poweredDown.poweredDown && !Self.poweredDown.negotiating)
        #expect(!Self.forced.autonegotiationEnabled)
    }
}
