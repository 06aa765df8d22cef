import BootConfig
import Logging
import NodeSys
import RuntimeLayout

/// The PID-1 boot: mounts the kernel file systems, plans from /proc/cmdline (read once), then walks the plan's steps,
/// each through its one executor (`Steps/`), timing each into boot.json. A refining step replaces the plan and the
/// walk goes on after that step in the new one. A thrown `BootFailure` ends in one report and the emergency path.
public final class BootSequence {
    private let log: KernelLog
    private var services: BootServices
    private var timeline: BootTimeline
    /// Until the plan exists, the failure policy comes from a lenient scan of the command line.
    private var emergency = Emergency(shellOnFailure: false, action: .reboot, countdownSeconds: 10)
    /// PID 1 started before the kernel's CRNG was ready and hashes with the runtime's fixed seed (logged).
    private var fixedHashSeed = false

    public init(services: BootServices, log: KernelLog = .boot) {
        self.log = log
        self.services = services
        self.timeline = BootTimeline(initStartMilliseconds: MonotonicInstant.now().milliseconds)
    }

    /// The boot of a real node: the kernel, NodeNetwork and real mounts, logging to the console and /dev/kmsg.
    public static func live(fixedHashSeed: Bool = false) -> BootSequence {
        let log = KernelLog.boot
        var logger = Logger(label: "nodeinit", factory: { _ in KernelLogHandler(sink: log) })
        logger.logLevel = .info
        let sequence = BootSequence(
            services: BootServices(
                network: NodeNetworkBoot(), kernel: LiveKernel(), storage: LiveStorage(), logger: logger),
            log: log)
        sequence.fixedHashSeed = fixedHashSeed
        return sequence
    }

    /// The real boot. Never returns: PID 1 must not exit.
    public func run() -> Never {
        do throws(BootFailure) {
            try phase(.earlyRootfs) { () throws(BootFailure) in
                try KernelFilesystemsStep.mount(self.services)
                self.attachLogs()
            }
            services.logger.info(
                "nodeinit \(NodeinitVersion.text) started as PID 1, \(timeline.initStartMilliseconds) ms after kernel start"
            )
            if fixedHashSeed {
                services.logger.info(
                    "the kernel's random generator was not ready: PID 1 hashes with a fixed seed instead of waiting for it (its children are seeded randomly)"
                )
            }
            let bytes = (try? FileContents.bytes(at: "/proc/cmdline", limit: 65536)) ?? []
            var context = try phase(.commandLine) { () throws(BootFailure) in try self.plan(commandLine: bytes) }
            try walk(&context)
            throw BootFailure(
                phase: .switchRoot, action: "following the boot plan", error: "the plan ended without switch_root")
        } catch {
            fail(error)
        }
    }

    /// Plans the boot and sets the failure policy from the plan (or, when it cannot be planned, from a lenient scan).
    func plan(commandLine bytes: [UInt8]) throws(BootFailure) -> BootContext {
        let commandLine = KernelCommandLine(bytes: bytes)
        let text = String(decoding: bytes, as: UTF8.self).filter { $0 != "\n" }
        services.logger.info("kernel command line: \(text)")
        let failure = DebugSpec.lenientFailurePolicy(commandLine)
        emergency = Emergency(
            shellOnFailure: failure.shellOnFailure, action: Power.Action(failure.emergencyAction), countdownSeconds: 10)
        let plan: BootPlan
        do {
            plan = try BootPlanner.plan(BootInputs(commandLine: commandLine))
        } catch {
            throw BootFailure(
                phase: .commandLine, action: "reading the kernel command line", inputs: [.init("cmdline", text)],
                error: "\(error)")
        }
        if plan.debug.verbose { services.logger.logLevel = .debug }
        for warning in plan.warnings { services.logger.warning("command line: \(warning)") }
        return BootContext(commandLine: commandLine, plan: plan)
    }

    /// Walks `context.plan.steps` to the end (a real switch_root never returns from the last step).
    func walk(_ context: inout BootContext) throws(BootFailure) {
        var index = 0
        while index < context.plan.steps.count {
            let step = context.plan.steps[index]
            let executor = self.executor(for: step)
            try phase(step.phase) { () throws(BootFailure) in try executor.run(&context, services) }
            // A refining step replaced the plan: go on after that same step in the new list.
            guard context.plan.steps.indices.contains(index), context.plan.steps[index] == step else {
                guard let same = context.plan.steps.firstIndex(of: step) else {
                    throw BootFailure(
                        phase: step.phase, action: "following the refined plan", error: "it lacks the step \(step)")
                }
                index = same + 1
                continue
            }
            index += 1
        }
    }

    /// The one executor of each step.
    private func executor(for step: BootStep) -> any BootStepExecutor {
        switch step {
        case .mountKernelFilesystems: KernelFilesystemsStep()
        case .pause(let point): PauseStep(point: point)
        case .loadModules(let names): LoadModulesStep(names: names)
        case .loadDeviceDrivers: LoadDeviceDriversStep()
        case .configureNetwork: ConfigureNetworkStep()
        case .planFromLease: PlanFromLeaseStep()
        case .mountRoot: RootMountStep()
        case .mountOverlayDevice: OverlayDeviceStep()
        case .mountOverlayTmpfs: OverlayTmpfsStep()
        case .mountOverlay: OverlayMountStep()
        case .loadTables: LoadTablesStep()
        case .fetchXcatdTables: XcatdTablesStep()
        case .mountStateliteTmpfs: MountStateliteTmpfsStep()
        case .mountStatemnt: MountStatemntStep()
        case .mountLocalDisk: MountLocalDiskStep()
        case .mountLitetree(let index): MountLitetreeStep(index: index)
        case .applyLitefile(let index, _): ApplyLitefileStep(index: index)
        case .linkMtab: LinkMtabStep()
        case .startAgent(let port): AgentStep(port: port)
        case .prepareShutdown: ShutdownHandoverStep()
        case .switchRoot: SwitchRootStep(onPointOfNoReturn: handingOver)
        }
    }

    // MARK: timeline and failure

    /// Runs one phase, timing it; a refined plan's debug settings take effect from the next phase on.
    private func phase<T>(_ phase: BootPhase, _ body: () throws(BootFailure) -> T) throws(BootFailure) -> T {
        let start = MonotonicInstant.now()
        services.logger.debug("phase \(phase.rawValue)")
        do {
            let result = try body()
            timeline.record(phase, start: start, end: MonotonicInstant.now(), succeeded: true)
            recordBackgroundWork()
            services.kernel.reapExited()
            return result
        } catch {
            timeline.record(phase, start: start, end: MonotonicInstant.now(), succeeded: false)
            recordBackgroundWork()
            throw error
        }
    }

    /// The module loads that ran beside the phases and were waited for meanwhile, each as its own entry.
    private func recordBackgroundWork() {
        for report in services.kernel.takeBackgroundReports() {
            timeline.recordBackground(
                report.modules ? .modulesBackground : .deviceDriversBackground, start: report.started,
                end: report.finished, succeeded: report.failures == 0, waitedMilliseconds: report.waitedMilliseconds)
        }
    }

    /// The last moment before exec: the timeline is final.
    private func handingOver() {
        recordBackgroundWork()
        let end = MonotonicInstant.now()
        timeline.outcome = .switchRoot
        timeline.initExecMilliseconds = end.milliseconds
        writeTimeline()
        services.logger.info("phases: \(timeline.summary)")
    }

    private func fail(_ failure: BootFailure) -> Never {
        let now = MonotonicInstant.now()
        timeline.outcome = .failed
        timeline.failure = failure.description
        writeTimeline()
        let phaseStart = timeline.entries.last { $0.phase == failure.phase }?.startMilliseconds ?? now.milliseconds
        let report = FailureReport(
            failure: failure, phaseMilliseconds: now.milliseconds - min(phaseStart, now.milliseconds),
            bootMilliseconds: now.milliseconds, next: emergency.nextStep)
        services.logger.critical("\(report.lines.joined(separator: "\n"))")
        emergency.run(log: log, logger: services.logger)
    }

    /// The console, /dev/kmsg and boot.log, once /dev and /run exist.
    private func attachLogs() {
        if !Console.hasStandardError { try? Console.attachStandardStreams() }
        log.attachKernelLog()
        do {
            try FileSystem.makeDirectory(services.layout.directory, mode: 0o700)
            try log.attachFile(path: services.layout.bootLog)
        } catch {
            services.logger.warning("no boot.log: \(error)")
        }
    }

    private func writeTimeline() {
        do {
            try services.kernel.writeFile(timeline.json, to: services.layout.bootJSON)
        } catch {
            services.logger.warning("cannot write boot.json: \(error)")
        }
    }
}

/// `mountKernelFilesystems`: /proc, /sys, /dev, /dev/pts, /run (`EarlyRootfs`). The boot runs it before planning
/// too (reading /proc/cmdline needs /proc); what is mounted already is skipped, so in the walk it only checks.
struct KernelFilesystemsStep: BootStepExecutor {
    func run(_ context: inout BootContext, _ services: BootServices) throws(BootFailure) {
        try Self.mount(services)
    }

    static func mount(_ services: BootServices) throws(BootFailure) {
        try EarlyRootfs(kernel: services.kernel).create(logger: services.logger)
    }
}

extension BootStep {
    /// The boot.json phase the step's time counts in.
    var phase: BootPhase {
        switch self {
        case .mountKernelFilesystems: .earlyRootfs
        case .pause: .pause
        case .loadModules: .modules
        case .loadDeviceDrivers: .deviceDrivers
        case .configureNetwork: .network
        case .planFromLease: .planFromLease
        case .mountRoot: .nfsRoot
        case .mountOverlayDevice: .persistentOverlay
        case .mountOverlayTmpfs: .overlayTmpfs
        case .mountOverlay: .overlay
        case .loadTables: .tables
        case .fetchXcatdTables: .xcatdTables
        case .mountStateliteTmpfs, .mountStatemnt, .mountLocalDisk, .mountLitetree, .applyLitefile, .linkMtab:
            .statelite
        case .startAgent: .agent
        case .prepareShutdown: .shutdownHandover
        case .switchRoot: .switchRoot
        }
    }
}

extension Power.Action {
    init(_ action: EmergencyAction) {
        switch action {
        case .reboot: self = .reboot
        case .poweroff: self = .poweroff
        case .halt: self = .halt
        }
    }
}
