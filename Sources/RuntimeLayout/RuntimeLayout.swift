/// Where nodeinit keeps its state on a node: one directory, `/run/nodeinit` (mode 0700), which moves with /run into
/// the booted system at switch_root, so the node-save agent and an admin's `nodeinit` find everything the init left
/// there. Every path the init, the agent and the command-line tools share comes from here, nowhere else.
///
/// Pure: paths only, no I/O. Tests build a layout under a temporary directory with `RuntimeLayout(directory:)`.
public struct RuntimeLayout: Sendable, Equatable {
    /// `/run/nodeinit`.
    public var directory: String

    public init(directory: String) {
        self.directory = directory
    }

    /// The layout of a booted node.
    public static let node = RuntimeLayout(directory: "/run/nodeinit")

    /// The init's log, every console line with its time.
    public var bootLog: String { directory + "/boot.log" }
    /// Per-phase timings and the outcome (`BootTimeline.json`).
    public var bootJSON: String { directory + "/boot.json" }
    /// The NFS root, read-only: the overlay's lower layer.
    public var lowerDir: String { directory + "/lower" }
    /// The tmpfs holding a tmpfs overlay's upper and work directories.
    public var overlayTmpfs: String { directory + "/overlay" }
    /// The upper of a tmpfs overlay (what node save captures by default).
    public var tmpfsUpperDir: String { overlayTmpfs + "/upper" }
    /// The work directory of a tmpfs overlay.
    public var tmpfsWorkDir: String { overlayTmpfs + "/work" }
    /// Where a persistent overlay's device is mounted.
    public var overlayDevice: String { directory + "/overlay-device" }
    /// Where a persistent overlay's image file (`rd.live.overlay=<dev>:<file>`) is loop-mounted: beside the device.
    public var overlayDeviceImage: String { overlayDevice + "-image" }
    /// The boot-placed manifest: files the init put into the upper, which node save leaves out.
    public var placedManifest: String { directory + "/placed.json" }
    /// The init's own binary, copied so the agent stays executable after the initramfs is freed.
    public var agentBinary: String { directory + "/nodeinit" }
    /// On WalT boots, a link to `agentBinary` under the name `walt node save` runs (`WaltLayout.dumpCommandName`).
    public var waltDumpCommand: String { directory + "/" + WaltLayout.dumpCommandName }
    /// The agent's standard output and error.
    public var agentLog: String { directory + "/agent.log" }
    /// What the shutdown needs from the boot (the agent's pid, the writable devices): `ShutdownRecord`'s text.
    public var shutdownRecord: String { directory + "/shutdown.record" }

    /// systemd's return-to-initramfs directory: at shutdown systemd switches root into it (the old root kept on
    /// `oldroot/`) and execs its `shutdown` with the verb. The init prepares it; outside `directory` because that is
    /// the path systemd looks for.
    public static let shutdownRoot = "/run/initramfs"
    /// The program systemd-shutdown runs there (a link to the init's binary copy).
    public static let shutdownProgram = shutdownRoot + "/shutdown"
    /// Where the old root is, seen from inside `shutdownRoot` after systemd's switch.
    public static let shutdownOldRoot = "/oldroot"

    /// resolv.conf for the booted system (an image's /etc/resolv.conf usually links here); outside `directory`
    /// because that is where images expect it.
    public var resolvConf: String { "/run/resolv.conf" }

    /// The new root the init builds and switches to.
    public static let newRoot = "/sysroot"
}
