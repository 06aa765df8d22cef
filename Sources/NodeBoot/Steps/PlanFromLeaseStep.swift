import BootConfig

/// `planFromLease`: the command line planned again with what the lease taught, so every later step sees it: the
/// host name (node name, `%s` in the root path, `$node` in tables) when the command line gave none, and for
/// `root=dhcp` the root-path (option 17), which must then be there; for `root=/dev/nfs` without `nfsroot=` the
/// root-path when the lease has one, else the kernel's `/tftpboot/%s`.
struct PlanFromLeaseStep: BootStepExecutor {
    func run(_ context: inout BootContext, _ services: BootServices) throws(BootFailure) {
        let plan = context.plan
        let lease = context.lease
        let awaitsRootPath = plan.root.awaitsDHCPRootPath
        let rootPath = lease?.boot.rootPath ?? ""
        let rootParameter = plan.root.rootPathFallback == nil ? "dhcp" : String(plan.root.syntax.dropFirst(5))
        func failure(_ error: String) -> BootFailure {
            BootFailure(
                phase: .planFromLease, action: "reading the root from DHCP (root=\(rootParameter))",
                inputs: [
                    .init("root", rootParameter), .init("interface", lease?.boot.interfaceName ?? "-"),
                    .init("dhcp server", lease?.boot.serverIdentifier?.description ?? "-"),
                    .init("root-path", rootPath.isEmpty ? "-" : rootPath),
                ],
                error: error)
        }
        if awaitsRootPath && rootPath.isEmpty && plan.root.rootPathFallback == nil {
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
            let root = context.plan.root
            let mounted = "\(root.server ?? "<next-server>"):\(root.path)"
            if root.dhcpRootPath?.isEmpty ?? true {
                services.logger.info(
                    "root=\(rootParameter): the lease has no root-path (option 17), so the kernel's default \(root.rootPathFallback ?? "") gives \(mounted)"
                )
            } else {
                services.logger.info("root=\(rootParameter): root-path \(rootPath) gives \(mounted)")
            }
        }
    }
}
