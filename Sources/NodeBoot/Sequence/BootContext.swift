import BootConfig
import Logging
import NodeSys
import RuntimeLayout

/// What the boot knows at each step: the command line (read once), the plan as refined so far, and the typed facts
/// the steps learnt. Each field is set by one step and read by the ones after it.
public struct BootContext {
    /// /proc/cmdline as read once at the start; refining steps plan again from it.
    public let commandLine: KernelCommandLine
    /// The plan being walked; `planFromLease` and `loadTables` replace it.
    public var plan: BootPlan
    /// Set by `configureNetwork`.
    public var lease: BootLease?
    /// The NFS root server's address, set by `mountRoot`: the node-save agent's default allowed client.
    public var rootServer: IPAddress?
    /// The overlay's layers: prepared by `mountOverlayDevice` / `mountOverlayTmpfs`, mounted by `mountOverlay`.
    public var overlay: OverlayLayers?
    /// Modules loaded so far, in order (by name, by modalias and for the NFS versions tried).
    public var loadedModules: [ModuleName] = []
    /// The node-save agent's pid, set by `startAgent` when it started.
    public var agentPID: Int32?
    /// The statelite log (`/.statelite/statelite.log`), opened by `loadTables`.
    public var stateliteLog: StateliteLog?
    /// The tables `loadTables` found (command line or image), which `fetchXcatdTables` does not ask xcatd for.
    public var tablesRead: StateliteTables.Loaded?
    /// The statelite work on the new root, opened by `mountStateliteTmpfs`.
    public var statelite: (any StateliteOperations)?

    public init(commandLine: KernelCommandLine, plan: BootPlan) {
        self.commandLine = commandLine
        self.plan = plan
    }

    /// The node's name for the host name, STATEMNT and `%s`: the plan's, else the lease's.
    public var nodeName: String? { plan.nodeName ?? lease?.hostName }

    /// Name → address for the servers the later steps mount from (numeric names pass through; DNS needs a lease).
    func resolve(_ host: String, _ services: BootServices) -> IPAddress? {
        if let address = IPAddress(host) { return address }
        guard let lease else { return nil }
        let found = try? services.network.resolve(
            host: host, nameservers: lease.nameservers, searchDomains: lease.searchDomains, logger: services.logger)
        return found?.first
    }
}

/// The overlay's layers as the boot built them, whichever way (tmpfs or device, persistent or fallen back).
public struct OverlayLayers: Sendable, Equatable {
    public enum Mode: Sendable, Equatable {
        /// A fresh tmpfs upper: changes go at reboot.
        case tmpfs
        /// The persistent upper on the device takes the writes.
        case persistent
        /// `rd.overlay.readonly`: the saved upper is a lower layer; a tmpfs takes the writes.
        case readOnlyStack
        /// The device could not be used; a tmpfs upper instead, for the reason given.
        case tmpfsFallback(reason: String)
    }

    /// The directories that take the writes: `upperdir=` (what node save captures) and its `workdir=`, on the
    /// same file system.
    public struct WritableLayer: Sendable, Equatable {
        public var upperDir: String
        public var workDir: String

        public init(upperDir: String, workDir: String) {
            self.upperDir = upperDir
            self.workDir = workDir
        }
    }

    public var mode: Mode
    /// `lowerdir=`: the NFS root, after the saved upper in `readOnlyStack` mode.
    public var lowerDirs: String
    /// nil until a step prepared it: the device step leaves it to the tmpfs step in read-only mode and after a
    /// fallback, and `mountOverlay` refuses to mount without it.
    public var writable: WritableLayer?
    /// True once `mountOverlay` mounted it on the new root.
    public var mounted = false

    public init(mode: Mode, lowerDirs: String, writable: WritableLayer?) {
        self.mode = mode
        self.lowerDirs = lowerDirs
        self.writable = writable
    }

    /// The upper that node save captures: set once the overlay is mounted with it.
    public var mountedUpperDir: String? { mounted ? writable?.upperDir : nil }

    /// True when the upper is (or is to be) on the overlay tmpfs rather than on the device.
    public var needsTmpfs: Bool {
        switch mode {
        case .tmpfs, .readOnlyStack, .tmpfsFallback: true
        case .persistent: false
        }
    }
}

/// The seams every step reaches the system through, and where it logs.
public struct BootServices {
    public var network: any BootNetwork
    public var kernel: any BootKernel
    public var storage: any BootStorage
    public var logger: Logger
    public var layout: RuntimeLayout

    public init(
        network: any BootNetwork, kernel: any BootKernel, storage: any BootStorage, logger: Logger,
        layout: RuntimeLayout = .node
    ) {
        self.network = network
        self.kernel = kernel
        self.storage = storage
        self.logger = logger
        self.layout = layout
    }
}

/// One plan step's executor: the only code that performs that step.
protocol BootStepExecutor {
    func run(_ context: inout BootContext, _ services: BootServices) throws(BootFailure)
}
