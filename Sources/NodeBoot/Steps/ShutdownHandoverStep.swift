import BootConfig

/// `prepareShutdown`: the return path for the end of the run (`ShutdownHandover`). Never fatal: a node that cannot
/// prepare it still boots, with a warning that its shutdown will leave writable devices as systemd leaves them.
struct ShutdownHandoverStep: BootStepExecutor {
    func run(_ context: inout BootContext, _ services: BootServices) throws(BootFailure) {
        let handover = ShutdownHandover(agentPID: context.agentPID, layout: services.layout)
        do {
            try services.kernel.prepareShutdown(handover, logger: services.logger)
        } catch {
            services.logger.warning("shutdown not prepared (\(error)): the image's own shutdown ends the run")
        }
    }
}
