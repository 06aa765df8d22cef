import BootConfig

/// `planFromLease`: the command line planned again with what the lease taught, so every later step sees it: the
/// host name (node name, `%s` in the root path, `$node` in tables) when the command line gave none, and for
/// `root=dhcp` the root-path (option 17), which must then be there.
struct PlanFromLeaseStep: BootStepExecutor {
    func run(_ context: inout BootContext, _ services: BootServices) throws(BootFailure) {
        let plan = context.plan
        let lease = context.lease
        let awaitsRootPath = plan.root.awaitsDHCPRootPath
        let rootPath = lease?.boot.rootPath ?? ""
        func failure(_ error: String) -> BootFailure {
            BootFailure(
                phase: .planFromLease, action: "reading the root from DHCP (root=dhcp)",
                inputs: [
                    .init("root", "dhcp"), .init("interface", lease?.boot.interfaceName ?? "-"),
                    .init("dhcp server", lease?.boot.serverIdentifier?.description ?? "-"),
                    .init("root-path", rootPath.isEmpty ? "-" : rootPath),
                ],
                error: error)
        }
        if awaitsRootPath && rootPath.isEmpty {
            throw failure(
                "the DHCP server sent no root-path (option 17); set one on the server or give root=nfs:server:/path")
        }
        // Nothing learnt that the plan does not have: keep it (planning again would give the same plan).
        guard awaitsRootPath || (plan.nodeName == nil && lease?.hostName != nil) else { return }
        do {
            context.plan = try BootPlanner.plan(
                BootInputs(
                    commandLine: context.commandLine, image: plan.image, hostName: lease?.hostName,
                    dhcpRootPath: awaitsRootPath ? rootPath : plan.root.dhcpRootPath))
        } catch {
            throw awaitsRootPath
                ? failure("\(error)")
                : BootFailure(
                    phase: .planFromLease, action: "planning with the DHCP host name",
                    inputs: [.init("host name", lease?.hostName ?? "-")], error: "\(error)")
        }
        if awaitsRootPath {
            services.logger.info(
                "root=dhcp: root-path \(rootPath) gives \(context.plan.root.server ?? "<next-server>"):\(context.plan.root.path)"
            )
        }
    }
}
