import BootConfig
import NodeSys

/// `mountOverlayDevice`: `rd.overlay=<devspec>[:<path>]`: waits for the device, mounts it and prepares the
/// persistent upper (`PersistentOverlay`). A device that cannot be used falls back to a tmpfs upper, mounted here
/// by the tmpfs step's executor when the plan has no tmpfs step of its own (it has one in read-only mode).
struct OverlayDeviceStep: BootStepExecutor {
    func run(_ context: inout BootContext, _ services: BootServices) throws(BootFailure) {
        let plan = context.plan
        guard case .device(let device) = plan.overlay else { return }
        let logger = services.logger
        settleDeviceDrivers(&context, services)
        var overlay = PersistentOverlay(
            plan: device, lowerDir: plan.root.mountPoint, server: plan.root.server ?? "-", exportPath: plan.root.path,
            image: plan.image, deviceTimeoutSeconds: plan.debug.deviceTimeoutSeconds
        ) { level, line in logger.log(level: level, "\(line)") }
        let loaded = LoadedModuleList()
        let modulePlan = plan.modules
        overlay.loadModule = { name in
            let outcome = services.kernel.loadModules([ModuleName(name)], plan: modulePlan, logger: logger)
            loaded.names += outcome.loaded
            for failure in outcome.failures { logger.warning("\(failure)") }
        }
        let prepared: PersistentOverlay.Prepared
        do {
            prepared = try services.storage.prepareOverlayDevice(overlay)
        } catch {
            throw BootFailure(
                phase: .persistentOverlay, action: "mounting the persistent overlay",
                inputs: [
                    .init("device", device.device.description), .init("path", device.path ?? "-"),
                    .init("rd.timeout", "\(plan.debug.deviceTimeoutSeconds)"),
                ],
                error: error.description)
        }
        context.loadedModules += loaded.names
        var writable: OverlayLayers.WritableLayer? = nil
        if let upperDir = prepared.upperDir, let workDir = prepared.workDir {
            writable = OverlayLayers.WritableLayer(upperDir: upperDir, workDir: workDir)
        }
        context.overlay = OverlayLayers(mode: prepared.mode, lowerDirs: prepared.lowerDirs, writable: writable)
        if writable == nil, !plan.steps.contains(.mountOverlayTmpfs) {
            try OverlayTmpfsStep().run(&context, services)
        }
    }
}

/// Modules a closure loaded (the persistent overlay's file system and loop modules).
private final class LoadedModuleList {
    var names: [ModuleName] = []
}

/// `mountOverlayTmpfs`: the tmpfs for the upper and work dirs: a tmpfs overlay's (with its `size=` or `nr_blocks=`,
/// and `nr_inodes=`), or a device overlay's in read-only mode or after a fallback. Without `size=` tmpfs takes half of
/// RAM, the documented default.
struct OverlayTmpfsStep: BootStepExecutor {
    func run(_ context: inout BootContext, _ services: BootServices) throws(BootFailure) {
        switch context.plan.overlay {
        case .none, .waltInit:
            return
        case .tmpfs(let overlay):
            try mountTmpfs(
                Self.tmpfsMount(
                    at: overlay.tmpfsMountPoint, size: overlay.size, nrInodes: overlay.nrInodes,
                    nrBlocks: overlay.nrBlocks),
                upper: overlay.mounts.upperDir, work: overlay.mounts.workDir, services)
            context.overlay = OverlayLayers(
                mode: .tmpfs, lowerDirs: overlay.mounts.lowerDir,
                writable: OverlayLayers.WritableLayer(
                    upperDir: overlay.mounts.upperDir, workDir: overlay.mounts.workDir))
            services.logger.info("overlay tmpfs at \(overlay.tmpfsMountPoint) (size \(overlay.size ?? "half of RAM"))")
        case .device:
            guard var layers = context.overlay, layers.needsTmpfs else { return }
            let mountPoint = services.layout.overlayTmpfs
            let writable = OverlayLayers.WritableLayer(upperDir: mountPoint + "/upper", workDir: mountPoint + "/work")
            try mountTmpfs(
                Self.tmpfsMount(at: mountPoint, size: nil, nrInodes: nil), upper: writable.upperDir,
                work: writable.workDir, services)
            layers.writable = writable
            context.overlay = layers
        }
    }

    static func tmpfsMount(at mountPoint: String, size: String?, nrInodes: String?, nrBlocks: String? = nil) -> Mount {
        var options = MountOptions(parsing: "mode=0755")
        if let size { options.set("size", size) }
        if let nrBlocks { options.set("nr_blocks", nrBlocks) }
        if let nrInodes { options.set("nr_inodes", nrInodes) }
        return Mount(source: "tmpfs", target: mountPoint, fileSystemType: "tmpfs", options: options)
    }

    private func mountTmpfs(_ tmpfs: Mount, upper: String, work: String, _ services: BootServices) throws(BootFailure) {
        do {
            try services.kernel.makeDirectory(tmpfs.target, mode: 0o755)
            try services.kernel.mount(tmpfs)
            try services.kernel.makeDirectory(upper, mode: 0o755)
            try services.kernel.makeDirectory(work, mode: 0o755)
        } catch {
            throw BootFailure(
                phase: .overlayTmpfs, action: "mounting the overlay tmpfs", inputs: [.init("tmpfs", tmpfs.description)],
                error: "\(error)")
        }
    }
}

/// `mountOverlay`: overlayfs on the new root from the layers the tmpfs or device step prepared, with the plan's
/// options (redirect_dir=off,metacopy=off,index=off,xino=off: the upper stays a faithful diff and offline changes to
/// the NFS lower stay legal).
struct OverlayMountStep: BootStepExecutor {
    func run(_ context: inout BootContext, _ services: BootServices) throws(BootFailure) {
        let mounts: OverlayMounts
        switch context.plan.overlay {
        case .none, .waltInit: return
        case .tmpfs(let overlay): mounts = overlay.mounts
        case .device(let overlay): mounts = overlay.mounts
        }
        guard var layers = context.overlay, let writable = layers.writable else {
            throw BootFailure(
                phase: .overlay, action: "mounting the overlay root",
                error: "no upper directory was prepared (the plan lacks its tmpfs or device step)")
        }
        // Loaded in the background since the modules step: waits for it if it is not done, reports a failure.
        load(["overlay"], what: "modules for the overlay", quietWhenNothing: true, &context, services)
        let overlay = Self.overlayMount(lowerDirs: layers.lowerDirs, writable: writable, mounts: mounts)
        do {
            try services.kernel.makeDirectory(mounts.target, mode: 0o755)
            try services.kernel.mount(overlay)
        } catch {
            throw BootFailure(
                phase: .overlay, action: "mounting the overlay root", inputs: [.init("overlay", overlay.description)],
                error: "\(error)")
        }
        layers.mounted = true
        context.overlay = layers
        services.logger.info(
            "overlay root at \(mounts.target) (\(layers.mode)): lower \(layers.lowerDirs), upper \(writable.upperDir)")
    }

    /// lowerdir/upperdir/workdir, then the plan's options.
    static func overlayMount(lowerDirs: String, writable: OverlayLayers.WritableLayer, mounts: OverlayMounts) -> Mount {
        var options = MountOptions()
        options.set("lowerdir", lowerDirs)
        options.set("upperdir", writable.upperDir)
        options.set("workdir", writable.workDir)
        options.merge(MountOptions(parsing: mounts.options))
        return Mount(source: "overlay", target: mounts.target, fileSystemType: "overlay", options: options)
    }
}
