import BootConfig
import Logging
import NodeSys

/// `loadModules(names)`: the plan's modules (`rd.driver.pre=`, `nodeinit.modules=`, what the root and overlay need).
/// The NFS version modules wait until the root mount tries that version (`RootMountStep`): most boots never need
/// nfsv3, and each module costs time to load. Wanted for another reason (walt-init's NFSv3 /persist beside an NFSv4
/// root), a version module loads here with the others.
struct LoadModulesStep: BootStepExecutor {
    var names: [String]
    static let deferred: Set<ModuleName> = ["nfsv3", "nfsv4"]

    func run(_ context: inout BootContext, _ services: BootServices) throws(BootFailure) {
        let forTheRootOnly = Set(
            context.plan.modules.load.filter { $0.reason == KernelModule.nfsRootReason }.map { ModuleName($0.name) })
        let wanted = names.map { ModuleName($0) }.filter {
            !(Self.deferred.contains($0) && forTheRootOnly.contains($0))
        }
        load(wanted, what: "modules", &context, services)
    }
}

/// `loadDeviceDrivers`: drivers for the devices present (network cards) by modalias, honouring the blacklist.
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

private func record(_ outcome: ModuleLoader.Outcome, what: String, _ context: inout BootContext, _ logger: Logger) {
    context.loadedModules += outcome.loaded
    let names = outcome.loaded.map(\.rawValue).joined(separator: " ")
    logger.info("loaded \(outcome.loaded.count) \(what): \(names.isEmpty ? "none" : names)")
    for failure in outcome.failures { logger.warning("\(failure)") }
}
