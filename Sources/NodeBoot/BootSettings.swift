import NodeSys

/// What one boot does, in the terms the boot sequence needs. Built from BootConfig's BootPlan
/// (see BootSettings+Plan.swift); tests build it directly.
public struct BootSettings: Sendable, Equatable {
    public var root: NFSRootRequest
    public var overlay: OverlayRequest = OverlayRequest()
    public var network: NetworkRequest = NetworkRequest()
    /// Modules to load besides the ones every NFS-root boot needs and the device drivers found by modalias.
    public var extraModules: [ModuleName] = []
    public var moduleParameters: [ModuleName: [String]] = [:]
    /// rd.retry: how long the root mount is retried, in seconds.
    public var retrySeconds: Int = 180
    /// The bare word `shell`: a shell after the root mount, after the overlay, before switch_root.
    public var debugShell: Bool = false
    /// rd.break=<stage> (and bare rd.break, which is `.cleanup`).
    public var breakStages: Set<BootStage> = []
    /// rd.shell: a shell after a fatal error, before the emergency action.
    public var shellOnFailure: Bool = false
    public var emergencyAction: Power.Action = .reboot
    public var emergencyCountdownSeconds: Int = 10
    public var initPath: String = "/sbin/init"
    public var initArguments: [String] = []
    public var verbose: Bool = false

    public init(root: NFSRootRequest) {
        self.root = root
    }
}

/// The NFS root to mount: `server` is a host name or an IP literal.
public struct NFSRootRequest: Sendable, Equatable {
    public var server: String
    public var path: String
    /// nil: try 4.2, then 4.1, then 3.
    public var version: NFSVersion?
    /// The user's extra options (rsize=, proto=, ...); ours are laid down first and these over them,
    /// then the ones the kernel needs (addr=, nolock for v3, ro) last.
    public var options: MountOptions = MountOptions()

    public init(server: String, path: String, version: NFSVersion? = nil, options: MountOptions = MountOptions()) {
        self.server = server
        self.path = path
        self.version = version
        self.options = options
    }
}

public enum NFSVersion: String, Sendable, Equatable, CaseIterable {
    case v3 = "3"
    case v4 = "4"
    case v4_0 = "4.0"
    case v4_1 = "4.1"
    case v4_2 = "4.2"

    /// The order tried when no version was asked for.
    public static let automatic: [NFSVersion] = [.v4_2, .v4_1, .v3]

    public var fileSystemType: String { self == .v3 ? "nfs" : "nfs4" }
}

/// The tmpfs upper layer. `size` is tmpfs's `size=` (bytes, k/m/g suffix or percent); nil keeps
/// tmpfs's own default, half of RAM.
public struct OverlayRequest: Sendable, Equatable {
    public var size: String?
    public init(size: String? = nil) { self.size = size }
}

/// The network the boot brings up. Filled from the plan once NodeNetwork is wired in.
public struct NetworkRequest: Sendable, Equatable {
    public var nameservers: [String] = []
    public init() {}
}

/// Points where `rd.break=<stage>` stops the boot with a shell (dracut's names).
public enum BootStage: String, Sendable, Hashable, CaseIterable {
    case cmdline
    case preUdev = "pre-udev"
    case preTrigger = "pre-trigger"
    case initqueue
    case preMount = "pre-mount"
    case mount
    case prePivot = "pre-pivot"
    case cleanup
}
