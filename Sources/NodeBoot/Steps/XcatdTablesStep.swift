import BootConfig
import NodeSys

/// `fetchXcatdTables`: with `XCAT=` and no litefile from the command line or the image, the node's litefile (and
/// its litetree, unless one was read) from xcatd over TLS, then the command line planned again with them, as
/// `loadTables` does with the image's tables. The statelite steps that follow come from that plan.
struct XcatdTablesStep: BootStepExecutor {
    func run(_ context: inout BootContext, _ services: BootServices) throws(BootFailure) {
        let plan = context.plan
        guard let xcatd = plan.statelite.xcatd else { return }
        let logger = services.logger
        let log = context.stateliteLog ?? StateliteLog { level, line in logger.log(level: level, "\(line)") }
        context.stateliteLog = log
        let read = context.tablesRead ?? StateliteTables.Loaded()
        if let litefile = read.litefile {
            log.info("the litefile came from \(litefile.name): xcatd at \(xcatd.endpoint) is not asked")
            return
        }
        func failure(_ error: StateliteError) -> BootFailure {
            BootFailure(
                phase: .xcatdTables, action: "asking xcatd for this node's litefile and litetree",
                inputs: [
                    .init("XCAT", xcatd.endpoint),
                    .init("CA", xcatd.caPath ?? "first of " + XcatdPlan.caCandidates.joined(separator: ", ")),
                    .init("litetree", read.litetree?.name ?? "from xcatd"),
                ],
                attempts: Array(log.lines.suffix(8)), error: error.description)
        }
        guard let address = context.resolve(xcatd.server, services) else {
            throw failure(
                .xcatd(
                    endpoint: xcatd.endpoint, problem: "cannot resolve \(xcatd.server) (no address from DNS)",
                    attempts: []))
        }
        // Seeded without waiting for the kernel's random generator: the MAC address and name differ per node.
        let nodeBytes = (context.lease?.boot.macAddress?.bytes ?? []) + Array((context.nodeName ?? "").utf8)
        let tables: StateliteTables.Loaded
        let fetched: XcatdTables.Fetched
        let refined: BootPlan
        do {
            fetched = try services.storage.fetchXcatdTables(
                xcatd, address: address, imageRoot: plan.root.mountPoint, litefile: true,
                litetree: read.litetree == nil, seed: BootEntropy.seed(mixing: nodeBytes), log: log)
            tables = StateliteTables.Loaded(
                litefile: fetched.litefile, litetree: read.litetree ?? fetched.litetree, statelite: read.statelite)
            refined = try LoadTablesStep.plan(
                with: tables, commandLine: context.commandLine, plan: plan, hostName: context.lease?.hostName, log: log)
        } catch {
            throw failure(error)
        }
        if let node = fetched.node, let planned = refined.nodeName, node != planned {
            log.warning(
                "xcatd knows this node as \(node) (its reverse lookup of the node's address) but the boot names it "
                    + "\(planned): the entries are \(node)'s")
        }
        let summary =
            "\(refined.statelite.entries.count) litefile entries and \(refined.statelite.treeMounts.count) "
            + "litetree entries from xcatd at \(xcatd.endpoint) for node \(fetched.node ?? "?") "
            + "(TLS \(fetched.verification))"
        logger.notice("statelite: \(summary)")
        for warning in refined.warnings where !plan.warnings.contains(warning) {
            logger.warning("statelite plan: \(warning)")
        }
        context.tablesRead = tables
        context.plan = refined
    }
}
