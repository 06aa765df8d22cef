import Logging
import NodeSys

/// The writable root: a tmpfs holding the overlay's upper and work directories, laid over the
/// read-only NFS lower. Everything lives under /run/nodeinit (mode 0700), which moves with /run into
/// the booted system, so the node-save agent finds lower, upper and work there afterwards.
public struct OverlayRoot: Sendable {
    public struct Layout: Sendable, Equatable {
        public var stateDirectory = "/run/nodeinit"
        public var lower = "/run/nodeinit/lower"
        public var overlayTmpfs = "/run/nodeinit/overlay"
        public var upper = "/run/nodeinit/overlay/upper"
        public var work = "/run/nodeinit/overlay/work"
        public var merged = "/sysroot"
        public init() {}
    }

    public var layout: Layout
    public var request: OverlayRequest

    public init(layout: Layout = Layout(), request: OverlayRequest) {
        self.layout = layout
        self.request = request
    }

    /// The tmpfs for upper and work. Without `size=` tmpfs takes half of RAM, the documented default.
    public var tmpfsMount: Mount {
        var options = MountOptions(parsing: "mode=0755")
        if let size = request.size { options.set("size", size) }
        return Mount(source: "tmpfs", target: layout.overlayTmpfs, fileSystemType: "tmpfs", options: options)
    }

    /// Options that keep the upper a faithful diff of the lower: no redirect or metacopy xattrs,
    /// no index (an NFS lower has no usable file handles/UUID for it), no xino bits in inode numbers.
    public var overlayMount: Mount {
        var options = MountOptions()
        options.set("lowerdir", layout.lower)
        options.set("upperdir", layout.upper)
        options.set("workdir", layout.work)
        for key in ["redirect_dir", "metacopy", "index", "xino"] { options.set(key, "off") }
        return Mount(source: "overlay", target: layout.merged, fileSystemType: "overlay", options: options)
    }

    public func mount(logger: Logger) throws(BootFailure) {
        let tmpfs = tmpfsMount
        let overlay = overlayMount
        do {
            try FileSystem.makeDirectory(layout.overlayTmpfs, mode: 0o755)
            try tmpfs.mount()
            try FileSystem.makeDirectory(layout.upper, mode: 0o755)
            try FileSystem.makeDirectory(layout.work, mode: 0o755)
            try FileSystem.makeDirectory(layout.merged, mode: 0o755)
            try overlay.mount()
        } catch {
            throw BootFailure(
                phase: .overlay, action: "mounting the overlay root",
                inputs: [.init("tmpfs", tmpfs.description), .init("overlay", overlay.description)],
                error: "\(error)")
        }
        logger.info("overlay root at \(layout.merged): lower \(layout.lower), upper \(layout.upper) (tmpfs size \(request.size ?? "half of RAM"))")
    }
}
