import BootConfig
import NodeSys

/// The xCAT statelite steps, one executor each, in the order the plan lists them (after `loadTables`). Their work
/// on the new root is `StateliteOperations` (`StateliteSetup`), opened by the first of them.
///
/// Failure policy: a persistent store that `persistent` entries need and that does not mount stops the boot (as
/// xCAT does); a litetree source that does not mount is skipped with a warning; one entry that cannot be applied is
/// logged and the others go on.

/// `mountStateliteTmpfs`: opens the statelite work on the new root and mounts `/.statelite`.
struct MountStateliteTmpfsStep: BootStepExecutor {
    func run(_ context: inout BootContext, _ services: BootServices) throws(BootFailure) {
        let plan = context.plan
        let log = context.stateliteLog ?? StateliteLog()
        context.stateliteLog = log
        let logger = services.logger
        let modulePlan = plan.modules
        let snapshot = context
        let environment = StateliteSetup.Environment(
            newRoot: plan.switchRoot.newRoot, imageRoot: plan.root.mountPoint,
            upperDir: context.overlay?.writable?.upperDir,
            resolveHost: { host in snapshot.resolve(host, services)?.description },
            placedManifestPath: services.layout.placedManifest,
            deviceTimeoutSeconds: plan.debug.deviceTimeoutSeconds,
            loadModule: { name in
                let outcome = services.kernel.loadModules([ModuleName(name)], plan: modulePlan, logger: logger)
                for failure in outcome.failures { logger.warning("\(failure)") }
            })
        context.statelite = services.storage.openStatelite(environment, log: log)
        try statelite(.mountStateliteTmpfs, context) { (operations) throws(StateliteError) in
            try operations.mountStateliteTmpfs()
            if plan.statelite.statemnt == nil { try operations.warnNoPersistentStore(entries: plan.statelite.entries) }
        }
    }
}

/// `mountStatemnt`: the node's directory of the persistent store (created on first boot).
struct MountStatemntStep: BootStepExecutor {
    func run(_ context: inout BootContext, _ services: BootServices) throws(BootFailure) {
        guard let statemnt = context.plan.statelite.statemnt else { return }
        let nodeName = context.nodeName
        let entries = context.plan.statelite.entries
        try statelite(.mountStatemnt, context) { (operations) throws(StateliteError) in
            try operations.mountStatemnt(statemnt, nodeName: nodeName, entries: entries)
        }
    }
}

/// `mountLocalDisk`: `nodeinit.localdisk=` on `/.sllocal/localmnt` (RAM with a warning when it is missing).
struct MountLocalDiskStep: BootStepExecutor {
    func run(_ context: inout BootContext, _ services: BootServices) throws(BootFailure) {
        guard let disk = context.plan.statelite.localDisk else { return }
        settleDeviceDrivers(&context, services)
        try statelite(.mountLocalDisk, context) { (operations) throws(StateliteError) in
            try operations.mountLocalDisk(disk)
        }
    }
}

/// `mountLitetree(index)`: one litetree source, by priority.
struct MountLitetreeStep: BootStepExecutor {
    var index: Int

    func run(_ context: inout BootContext, _ services: BootServices) throws(BootFailure) {
        let trees = context.plan.statelite.treeMounts
        guard trees.indices.contains(index) else { throw outOfRange(.mountLitetree(index: index), trees.count) }
        try statelite(.mountLitetree(index: index), context) { (operations) throws(StateliteError) in
            try operations.mountLitetree(trees[index])
        }
    }
}

/// `applyLitefile(index)`: one litefile entry.
struct ApplyLitefileStep: BootStepExecutor {
    var index: Int

    func run(_ context: inout BootContext, _ services: BootServices) throws(BootFailure) {
        let entries = context.plan.statelite.entries
        let step = BootStep.applyLitefile(
            index: index, path: entries.indices.contains(index) ? entries[index].path : "?")
        guard entries.indices.contains(index) else { throw outOfRange(step, entries.count) }
        try statelite(step, context) { (operations) throws(StateliteError) in
            try operations.applyLitefile(entries[index], in: entries)
        }
    }
}

/// `linkMtab`: the last statelite step (mtab, the boot-placed manifest, the summary on the console).
struct LinkMtabStep: BootStepExecutor {
    func run(_ context: inout BootContext, _ services: BootServices) throws(BootFailure) {
        try statelite(.linkMtab, context) { (operations) throws(StateliteError) in try operations.linkMtab() }
        guard let summary = context.statelite?.summary else { return }
        let disk =
            context.plan.statelite.localDisk == nil
            ? "" : ", local disk \(summary.localDisk ? "mounted" : "NOT mounted")"
        services.logger.info(
            "statelite: \(summary.applied) litefile entries applied, \(summary.failed) failed, \(summary.treesMounted) litetree mounts (\(summary.treesSkipped) skipped), persistent store \(summary.persistentStore ? "mounted" : "none")\(disk); see /.statelite/statelite.log"
        )
    }
}

/// Runs one statelite operation, turning its error into the boot failure every statelite step reports.
private func statelite(
    _ step: BootStep, _ context: BootContext, _ body: (any StateliteOperations) throws(StateliteError) -> Void
) throws(BootFailure) {
    let plan = context.plan
    guard let operations = context.statelite else {
        throw BootFailure(
            phase: .statelite, action: "setting up xCAT statelite",
            error: "\(step) came before mountStateliteTmpfs in the plan")
    }
    do {
        try body(operations)
    } catch {
        throw BootFailure.statelite(
            phase: .statelite, action: "setting up xCAT statelite", plan: plan, log: context.stateliteLog, error: error)
    }
}

private func outOfRange(_ step: BootStep, _ count: Int) -> BootFailure {
    BootFailure(
        phase: .statelite, action: "following the boot plan",
        error: "\(step) names an item the plan lacks (it has \(count))")
}

extension BootFailure {
    /// A statelite failure: which tables the plan read, and the statelite log's last lines as what was tried.
    static func statelite(
        phase: BootPhase, action: String, plan: BootPlan, log: StateliteLog?, error: StateliteError
    ) -> BootFailure {
        BootFailure(
            phase: phase, action: action,
            inputs: [
                .init("litefile", plan.tables.litefile?.description ?? StateliteTables.imageLitefile),
                .init("litetree", plan.tables.litetree?.description ?? StateliteTables.imageLitetree),
            ],
            attempts: Array((log?.lines ?? []).suffix(8)), error: error.description)
    }
}
