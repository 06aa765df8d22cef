/// The timed phases of a boot, as they appear in boot.json. Each plan step belongs to one (`BootStep.phase`);
/// consecutive steps of one phase (the statelite steps) count as one entry.
public enum BootPhase: String, Sendable, Hashable, CaseIterable {
    case earlyRootfs = "early-rootfs"
    case commandLine = "cmdline"
    case pause
    case modules
    case deviceDrivers = "device-drivers"
    /// The NFS client and overlay modules, loading on a thread of their own from the modules step on (boot.json
    /// marks the entry `"background": true`; it overlaps the phases after it).
    case modulesBackground = "modules-background"
    /// Drivers for devices other than network cards, loading on a thread of their own from the device-drivers step.
    case deviceDriversBackground = "device-drivers-background"
    case network
    /// Planning again with the lease (its host name, and the root-path for `root=dhcp`).
    case planFromLease = "plan-from-lease"
    case nfsRoot = "nfs-root"
    case overlayTmpfs = "overlay-tmpfs"
    case overlay
    case persistentOverlay = "persistent-overlay"
    /// Reading the xCAT tables and planning again with them.
    case tables
    /// Asking xcatd for the litefile and litetree over TLS (`XCAT=`), and planning again with them.
    case xcatdTables = "xcatd-tables"
    case statelite
    case agent
    /// Preparing /run/initramfs and the shutdown record.
    case shutdownHandover = "shutdown-handover"
    case switchRoot = "switch-root"
}
