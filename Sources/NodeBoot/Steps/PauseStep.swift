import BootConfig

/// `pause(point)`: the debug shell on the console (`rd.break=`, xCAT's `shell`); exiting it continues the boot.
struct PauseStep: BootStepExecutor {
    var point: ShellPoint

    func run(_ context: inout BootContext, _ services: BootServices) throws(BootFailure) {
        services.kernel.shell(reason: "pause \(point.rawValue)", logger: services.logger)
    }
}
