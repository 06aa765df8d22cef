import BootConfig
import NodeSys

/// `switchRoot`: checks the new root, writes the final timeline, then moves /proc, /sys, /dev and /run into the new
/// root, frees the initramfs and execs the image's init. `onPointOfNoReturn` records the timeline (the walk's).
struct SwitchRootStep: BootStepExecutor {
    var onPointOfNoReturn: () -> Void

    func run(_ context: inout BootContext, _ services: BootServices) throws(BootFailure) {
        let plan = context.plan.switchRoot
        let switcher = SwitchRoot(
            newRoot: plan.newRoot, initPath: plan.initPath, initArguments: plan.initArguments,
            environment: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/", "TERM=linux"])
        let inputs: [BootFailure.Input] = [.init("root", plan.newRoot), .init("init", plan.initPath)]
        do {
            try services.kernel.validateNewRoot(switcher)
        } catch {
            throw BootFailure(phase: .switchRoot, action: "checking the new root", inputs: inputs, error: "\(error)")
        }
        // exec ends every other thread: the background module loads end first (checked above, so a bad root leaves
        // them running for the emergency shell).
        settleModulesBeforeSwitchRoot(&context, services)
        services.kernel.reapExited()
        onPointOfNoReturn()
        services.logger.info("switching root to \(plan.newRoot), exec \(plan.initPath)")
        do {
            try services.kernel.switchRoot(switcher, logger: services.logger)
        } catch {
            // The initramfs may be gone by now; report and take the emergency action.
            throw BootFailure(
                phase: .switchRoot, action: "switching to the new root", inputs: inputs, error: "\(error)")
        }
    }
}
