/// The timed phases of a boot, as they appear in boot.json. Each plan step belongs to one; later
/// work (statelite, persistent overlay, the node-save agent) adds its own phases here.
public enum BootPhase: String, Sendable, Hashable, CaseIterable {
    case earlyRootfs = "early-rootfs"
    case commandLine = "cmdline"
    case modules
    case deviceDrivers = "device-drivers"
    case network
    /// `root=dhcp`: planning again with the lease's root-path.
    case dhcpRoot = "dhcp-root"
    case nfsRoot = "nfs-root"
    case overlayTmpfs = "overlay-tmpfs"
    case overlay
    case persistentOverlay = "persistent-overlay"
    case statelite
    case switchRoot = "switch-root"
}
