import BootConfig

/// `startAgent(port)`: the node-save agent, started before switch_root so it serves the overlay's upper from the
/// booted system. Never fatal: a node that cannot be saved still boots, with a warning in boot.log.
struct AgentStep: BootStepExecutor {
    var port: Int

    func run(_ context: inout BootContext, _ services: BootServices) throws(BootFailure) {
        let startup = AgentStartup(
            plan: context.plan, port: port, bootServerAddress: context.rootServer,
            upperDirectory: context.overlay?.mountedUpperDir,
            binaryCopy: services.layout.agentBinary, logPath: services.layout.agentLog,
            waltDumpCommand: services.layout.waltDumpCommand)
        do {
            context.agentPID = try services.kernel.startAgent(startup, logger: services.logger)
        } catch {
            services.logger.warning("node-save agent not started: \(error)")
        }
    }
}
