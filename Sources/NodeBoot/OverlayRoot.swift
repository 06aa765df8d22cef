import BootConfig
import Logging
import NodeSys

/// The writable root: a tmpfs holding the overlay's upper and work directories, laid over the
/// read-only NFS lower. The plan keeps all of it under /run/nodeinit (mode 0700), which moves with
/// /run into the booted system, so the node-save agent finds lower, upper and work there afterwards.
public struct OverlayRoot: Sendable {
    public var plan: TmpfsOverlay

    public init(plan: TmpfsOverlay) { self.plan = plan }

    /// The tmpfs for upper and work. Without `size=` tmpfs takes half of RAM, the documented default.
    public var tmpfsMount: Mount {
        var options = MountOptions(parsing: "mode=0755")
        if let size = plan.size { options.set("size", size) }
        if let inodes = plan.nrInodes { options.set("nr_inodes", inodes) }
        return Mount(source: "tmpfs", target: plan.tmpfsMountPoint, fileSystemType: "tmpfs", options: options)
    }

    /// lowerdir/upperdir/workdir, then the plan's options (redirect_dir=off,metacopy=off,index=off,
    /// xino=off: the upper stays a faithful diff and offline changes to the NFS lower stay legal).
    public var overlayMount: Mount {
        var options = MountOptions()
        options.set("lowerdir", plan.mounts.lowerDir)
        options.set("upperdir", plan.mounts.upperDir)
        options.set("workdir", plan.mounts.workDir)
        options.merge(MountOptions(parsing: plan.mounts.options))
        return Mount(source: "overlay", target: plan.mounts.target, fileSystemType: "overlay", options: options)
    }

    public func mountTmpfs(logger: Logger) throws(BootFailure) {
        let tmpfs = tmpfsMount
        do {
            try FileSystem.makeDirectory(plan.tmpfsMountPoint, mode: 0o755)
            try tmpfs.mount()
            try FileSystem.makeDirectory(plan.mounts.upperDir, mode: 0o755)
            try FileSystem.makeDirectory(plan.mounts.workDir, mode: 0o755)
        } catch {
            throw BootFailure(
                phase: .overlay, action: "mounting the overlay tmpfs", inputs: [.init("tmpfs", tmpfs.description)],
                error: "\(error)")
        }
        logger.info("overlay tmpfs at \(plan.tmpfsMountPoint) (size \(plan.size ?? "half of RAM"))")
    }

    public func mountOverlay(logger: Logger) throws(BootFailure) {
        let overlay = overlayMount
        do {
            try FileSystem.makeDirectory(plan.mounts.target, mode: 0o755)
            try overlay.mount()
        } catch {
            throw BootFailure(
                phase: .overlay, action: "mounting the overlay root", inputs: [.init("overlay", overlay.description)],
                error: "\(error)")
        }
        logger.info("overlay root at \(plan.mounts.target): lower \(plan.mounts.lowerDir), upper \(plan.mounts.upperDir)")
    }
}
