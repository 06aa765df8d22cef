import BootConfig
import Logging
import NodeSys

/// The boot sequence's seam for the persistent overlay and xCAT statelite: holds what the later steps need (the
/// upper dir actually mounted) and turns failures into `BootFailure`s.
final class StateliteBootSteps {
    /// True once statelite ran (or decided it is not in use), so it runs once whatever step reached it first.
    private(set) var done = false
    /// The overlay's upper dir as mounted (a persistent overlay may have fallen back to tmpfs).
    private(set) var mountedUpperDir: String?

    /// `rd.overlay=<devspec>`: prepares the device upper and mounts the overlay on the new root.
    func mountPersistentOverlay(
        _ device: DeviceOverlay, plan: BootPlan, logger: Logger, loadModule: @escaping (String) -> Void
    ) throws(BootFailure) {
        var overlay = PersistentOverlay(
            plan: device, lowerDir: plan.root.mountPoint, target: device.mounts.target,
            tmpfsMountPoint: BootPlanner.overlayTmpfs, server: plan.root.server ?? "-", exportPath: plan.root.path,
            image: plan.image, deviceTimeoutSeconds: plan.debug.deviceTimeoutSeconds
        ) { line in
            if line.hasPrefix("WARNING") { logger.warning("\(line)") } else { logger.info("\(line)") }
        }
        overlay.loadModule = loadModule
        do {
            let outcome = try overlay.mount()
            mountedUpperDir = outcome.upperDir
        } catch {
            throw BootFailure(
                phase: .persistentOverlay, action: "mounting the persistent overlay",
                inputs: [.init("device", device.device.description), .init("path", device.path ?? "-"),
                         .init("rd.timeout", "\(plan.debug.deviceTimeoutSeconds)")],
                error: error.description)
        }
    }

    /// Reads the tables, plans statelite with them and applies it on the new root. `hostName` is the DHCP host
    /// name; `resolve` turns a server name into an address (numeric ones pass through); `loadModule` loads the
    /// local disk's file system module.
    func apply(
        plan: BootPlan, hostName: String?, resolve: @escaping (String) -> String?, logger: Logger,
        loadModule: @escaping (String) -> Void = { _ in }
    ) throws(BootFailure) {
        guard !done else { return }
        done = true
        let upperDir: String?
        switch plan.overlay {
        case .none: upperDir = nil
        case .tmpfs(let overlay): upperDir = overlay.mounts.upperDir
        case .device(let device): upperDir = mountedUpperDir ?? device.mounts.upperDir
        }
        let log = StateliteLog { line in
            if line.contains("WARNING:") || line.contains("REFUSED:") { logger.warning("\(line)") } else { logger.info("\(line)") }
        }
        let setup = StateliteSetup(
            environment: .init(
                newRoot: plan.switchRoot.newRoot, imageRoot: plan.root.mountPoint, upperDir: upperDir,
                resolveHost: { host in IPAddress(host) != nil ? host : resolve(host) },
                deviceTimeoutSeconds: plan.debug.deviceTimeoutSeconds, loadModule: loadModule),
            log: log)
        let bytes = (try? FileContents.bytes(at: "/proc/cmdline", limit: 65536)) ?? []
        do {
            guard let statelitePlan = try setup.plan(
                commandLine: KernelCommandLine(bytes: bytes), bootPlan: plan, hostName: hostName)
            else {
                logger.debug("statelite: no tables and nothing on the command line; not used")
                return
            }
            for warning in statelitePlan.warnings where !plan.warnings.contains(warning) {
                logger.warning("statelite plan: \(warning)")
            }
            let summary = try setup.apply(statelitePlan.statelite, nodeName: statelitePlan.nodeName)
            logger.info(
                "statelite: \(summary.applied) litefile entries applied, \(summary.failed) failed, \(summary.treesMounted) litetree mounts (\(summary.treesSkipped) skipped), persistent store \(summary.persistentStore ? "mounted" : "none")\(statelitePlan.statelite.localDisk == nil ? "" : ", local disk \(summary.localDisk ? "mounted" : "NOT mounted")"); see /.statelite/statelite.log")
        } catch {
            throw BootFailure(
                phase: .statelite, action: "setting up xCAT statelite",
                inputs: [.init("litefile", plan.tables.litefile?.description ?? StateliteTables.imageLitefile),
                         .init("litetree", plan.tables.litetree?.description ?? StateliteTables.imageLitetree)],
                attempts: Array(log.lines.suffix(8)), error: error.description)
        }
    }
}
