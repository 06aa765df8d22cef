import NodeSys

/// When to set up a link whose driver notices carrier late if it is set up too early.
///
/// e1000 (the 8254x driver; QEMU's default NIC, and VirtualBox's and VMware's e1000) notices carrier only in its
/// watchdog, which runs when the link is set up and then every 2 s. The interrupt that comes when its PHY finishes
/// negotiating does not bring the watchdog forward: the driver schedules it only if it is not already pending,
/// and after the first run it always is. Its PHY negotiates from the driver's probe, link up or down, and setting
/// the link up does not restart that. So a link set up while the PHY still negotiates gets carrier up to 2 s after
/// the PHY has link; set up once the PHY has link, it gets carrier at once. Under QEMU the PHY has link 0.5 s after
/// the probe, and carrier came 2.05-2.14 s after link-up at every boot.
///
/// The wait is bounded by the watchdog's period: a link set up 2 s later is checked at the same times as one set up
/// now, so waiting never makes carrier later. Other links are set up meanwhile; the caller polls again.
public enum PHYWait {
    /// The drivers whose carrier follows the link only at their periodic watchdog.
    static let watchdogOnlyDrivers: Set<String> = ["e1000"]
    static let watchdogPeriod: Duration = .seconds(2)

    /// True while `phy` (read through the driver of `driver`) still negotiates and the wait is under the bound. A PHY
    /// that is powered down (the driver powers it down when the link is set down), has auto-negotiation off, or cannot
    /// be read is set up at once.
    public static func setUpLater(driver: String?, phy: NetworkDevice.PHYStatus?, waited: Duration) -> Bool {
        guard let driver, watchdogOnlyDrivers.contains(driver), let phy, waited < watchdogPeriod else { return false }
        return phy.negotiating
    }
}
