import BootConfig
import NodeSys

/// `loadTables`: the xCAT tables (`nodeinit.litefile=`/`litetree=`/`statelite=`, a file in the image or `nfs://`
/// read with libnfs, else the image's `/etc/nodeinit/*.csv`), then the command line planned again with them. The
/// statelite steps that follow come from that plan; without tables and without statelite parameters there are none.
struct LoadTablesStep: BootStepExecutor {
    func run(_ context: inout BootContext, _ services: BootServices) throws(BootFailure) {
        let plan = context.plan
        let logger = services.logger
        let log = context.stateliteLog ?? StateliteLog { level, line in logger.log(level: level, "\(line)") }
        context.stateliteLog = log
        let snapshot = context
        let resolve: (String) -> String? = { host in snapshot.resolve(host, services)?.description }
        let refined: BootPlan
        do {
            let tables = try services.storage.loadTables(
                plan.tables, imageRoot: plan.root.mountPoint, resolveHost: resolve, log: log)
            context.tablesRead = tables
            refined = try Self.plan(
                with: tables, commandLine: context.commandLine, plan: plan, hostName: context.lease?.hostName, log: log)
        } catch {
            throw BootFailure.statelite(
                phase: .tables, action: "reading the xCAT tables", plan: plan, log: log, error: error)
        }
        for warning in refined.warnings where !plan.warnings.contains(warning) {
            logger.warning("statelite plan: \(warning)")
        }
        if !refined.statelite.enabled { logger.debug("statelite: no tables and nothing on the command line; not used") }
        context.plan = refined
    }

    /// The plan with the tables: the same command line, image, host name and DHCP root-path as `plan`.
    static func plan(
        with tables: StateliteTables.Loaded, commandLine: KernelCommandLine, plan: BootPlan, hostName: String?,
        log: StateliteLog
    ) throws(StateliteError) -> BootPlan {
        if tables.litefile == nil, let xcatd = plan.statelite.xcatd {
            // The next step (fetchXcatdTables) asks xcatd, as xCAT's own node does.
            log.info("no litefile table on the command line or in the image: asking xcatd at \(xcatd.endpoint)")
        }
        if tables.isEmpty { return plan }
        do {
            return try BootPlanner.plan(
                BootInputs(
                    commandLine: commandLine, litefile: tables.litefile, litetree: tables.litetree,
                    statelite: tables.statelite, image: plan.image, hostName: hostName,
                    dhcpRootPath: plan.root.dhcpRootPath))
        } catch {
            throw .invalidTables(reason: "\(error)")
        }
    }
}
