import BootConfig
import Logging
import NodeSys

/// `loadModules(names)`: the plan's modules (`rd.driver.pre=`, `nodeinit.modules=`, what the root and overlay need).
/// `rd.driver.pre=`, `nodeinit.modules=` and the virtual links' drivers (the network needs them) load now; the NFS
/// client and the overlay (and `rd.driver.post=`) load on a thread of their own while the device drivers load, the
/// link negotiates and DHCP runs; the root mount and the overlay mount wait for them if they are not done, and
/// report what they did. Of the NFS version modules only the first version's the root mount tries loads here: the
/// others wait until the mount tries them (`RootMountStep`; most boots never need nfsv3). Wanted for another reason
/// (walt-init's NFSv3 /persist beside an NFSv4 root), a version module loads with the others.
struct LoadModulesStep: BootStepExecutor {
    var names: [String]
    static let deferred: Set<ModuleName> = ["nfsv3", "nfsv4"]
    /// The reasons whose modules nothing before the root mount needs.
    static let backgroundReasons: Set<String> = [
        KernelModule.nfsRootReason, "overlay", "walt-init overlay", "walt-init /persist (NFSv3)", "rd.driver.post",
    ]

    func run(_ context: inout BootContext, _ services: BootServices) throws(BootFailure) {
        let plan = context.plan
        let forTheRootOnly = Set(
            plan.modules.load.filter { $0.reason == KernelModule.nfsRootReason }.map { ModuleName($0.name) })
        let firstVersion = plan.root.attempts.first.map { RootMountStep.module(forVersion: $0.version) }
        let wanted = names.map { ModuleName($0) }.filter {
            !(Self.deferred.contains($0) && forTheRootOnly.contains($0) && $0 != firstVersion)
        }
        let later = Set(
            plan.modules.load.filter { Self.backgroundReasons.contains($0.reason) }.map { ModuleName($0.name) })
        let now = wanted.filter { !later.contains($0) }
        if !now.isEmpty { load(now, what: "modules", &context, services) }
        let outcome = services.kernel.loadModulesInBackground(
            wanted.filter { later.contains($0) }, label: "NFS client and overlay modules", plan: plan.modules,
            logger: services.logger)
        if !outcome.loaded.isEmpty || !outcome.failures.isEmpty {
            record(outcome, what: "modules", &context, services.logger)
        }
    }
}

/// `loadDeviceDrivers`: drivers for the devices present by modalias, honouring the blacklist: the network cards'
/// (and those of devices nodeinit does not classify) now, the others' (disk controllers, display...) on a thread of
/// their own; the steps that need local block devices wait for them (`settleDeviceDrivers`).
struct LoadDeviceDriversStep: BootStepExecutor {
    func run(_ context: inout BootContext, _ services: BootServices) throws(BootFailure) {
        let outcome = services.kernel.loadDriversForPresentDevices(plan: context.plan.modules, logger: services.logger)
        record(outcome, what: "device drivers", &context, services.logger)
    }
}

/// Loads `names` for a step (the NFS version modules, a file system's module) and records them in the context.
func load(
    _ names: [ModuleName], what: String, quietWhenNothing: Bool = false, _ context: inout BootContext,
    _ services: BootServices
) {
    let outcome = services.kernel.loadModules(names, plan: context.plan.modules, logger: services.logger)
    if quietWhenNothing && outcome.loaded.isEmpty && outcome.failures.isEmpty { return }
    record(outcome, what: what, &context, services.logger)
}

/// Before a step that needs local block devices: the drivers loading in the background, then any device still
/// without one.
func settleDeviceDrivers(_ context: inout BootContext, _ services: BootServices) {
    let outcome = services.kernel.settleDeviceDrivers(plan: context.plan.modules, logger: services.logger)
    if outcome.loaded.isEmpty && outcome.failures.isEmpty { return }
    record(outcome, what: "device drivers", &context, services.logger)
}

/// Before switch_root: the background loads end (the device drivers' after the module in hand: the rest load beside
/// the image's init); what no step claimed is recorded here.
func settleModulesBeforeSwitchRoot(_ context: inout BootContext, _ services: BootServices) {
    let outcome = services.kernel.settleModulesBeforeSwitchRoot(plan: context.plan.modules, logger: services.logger)
    if outcome.loaded.isEmpty && outcome.failures.isEmpty { return }
    record(outcome, what: "modules loaded in the background", &context, services.logger)
}

private func record(_ outcome: ModuleLoader.Outcome, what: String, _ context: inout BootContext, _ logger: Logger) {
    context.loadedModules += outcome.loaded
    let names = outcome.loaded.map(\.rawValue).joined(separator: " ")
    logger.info("loaded \(outcome.loaded.count) \(what): \(names.isEmpty ? "none" : names)")
    for failure in outcome.failures { logger.warning("\(failure)") }
}
