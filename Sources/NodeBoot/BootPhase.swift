/// The phases of a boot, in order. Each is timed into boot.json. Later work (statelite rules,
/// persistent overlay, the node-save agent) adds phases here between `overlay` and `switchRoot`.
public enum BootPhase: String, Sendable, Hashable, CaseIterable {
    case earlyRootfs = "early-rootfs"
    case commandLine = "cmdline"
    case modules
    case network
    case nfsRoot = "nfs-root"
    case overlay
    case switchRoot = "switch-root"
}
