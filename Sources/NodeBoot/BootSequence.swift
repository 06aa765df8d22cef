import BootConfig
import Logging
import NodeSys

/// The PID-1 boot. It mounts the kernel file systems, builds the BootPlan from /proc/cmdline, then
/// walks `plan.steps` in order. Any fatal step ends in one failure report and the emergency path.
/// `run()` never returns.
public final class BootSequence {
    private let log: KernelLog
    private var logger: Logger
    private let network: any BootNetwork
    private var timeline: BootTimeline
    private var emergency = Emergency(shellOnFailure: false, action: .reboot, countdownSeconds: 10)
    private var modules: ModuleLoader?
    private var networkState: NetworkState?
    /// The NFS root server's resolved address: the node-save agent's default allowed client.
    private var rootServerAddress: String?
    private let stateDirectory = "/run/nodeinit"
    private let statelite = StateliteBootSteps()
    /// /proc/cmdline as read once, for planning again when `root=dhcp` learns its root from the lease.
    private var commandLine = KernelCommandLine("")

    public init(network: any BootNetwork = NodeNetworkBoot(), log: KernelLog = .boot) {
        self.log = log
        self.network = network
        var logger = Logger(label: "nodeinit", factory: { _ in KernelLogHandler(sink: log) })
        logger.logLevel = .info
        self.logger = logger
        self.timeline = BootTimeline(initStartMilliseconds: MonotonicInstant.now().milliseconds)
    }

    public func run() -> Never {
        phase(.earlyRootfs) { () throws(BootFailure) in try self.earlyRootfs() }
        logger.info("nodeinit \(Self.version) started as PID 1, \(timeline.initStartMilliseconds) ms after kernel start")

        // makePlan also sets the failure policy; a plan that parses has exactly those debug values.
        var plan = phase(.commandLine) { () throws(BootFailure) -> BootPlan in try self.makePlan() }
        if plan.debug.verbose { logger.logLevel = .debug }
        for warning in plan.warnings { logger.warning("command line: \(warning)") }

        for step in plan.steps {
            perform(step, plan: plan)
            if step == .configureNetwork, plan.root.awaitsDHCPRootPath {
                plan = phase(.dhcpRoot) { () throws(BootFailure) -> BootPlan in try self.planWithDHCPRootPath() }
            }
        }
        // A plan always ends in switchRoot; reaching here means it did not.
        fail(
            BootFailure(phase: .switchRoot, action: "following the boot plan", error: "the plan has no switch_root step"),
            phaseStart: MonotonicInstant.now())
    }

    // MARK: steps

    private func perform(_ step: BootStep, plan: BootPlan) {
        switch step {
        case .mountKernelFilesystems:
            // Done before the plan existed (/proc/cmdline needs /proc); creating again is a no-op.
            break
        case .pause(let point):
            DebugShell().run(reason: "pause \(point.rawValue)", logger: logger)
        case .loadModules(let names):
            phase(.modules) { () throws(BootFailure) in self.loadModules(names, plan: plan) }
        case .loadDeviceDrivers:
            phase(.deviceDrivers) { () throws(BootFailure) in self.loadDeviceDrivers(plan: plan) }
        case .configureNetwork:
            networkState = phase(.network) { () throws(BootFailure) -> NetworkState in try self.bringUpNetwork(plan) }
        case .mountRoot:
            phase(.nfsRoot) { () throws(BootFailure) in try self.mountRoot(plan) }
        case .mountOverlayTmpfs:
            guard case .tmpfs(let overlay) = plan.overlay else { return }
            phase(.overlayTmpfs) { () throws(BootFailure) in try OverlayRoot(plan: overlay).mountTmpfs(logger: self.logger) }
        case .mountOverlay:
            if case .device(let device) = plan.overlay {
                phase(.persistentOverlay) { () throws(BootFailure) in
                    try self.statelite.mountPersistentOverlay(device, plan: plan, logger: self.logger) { self.loadModules([$0], plan: plan) }
                }
                return
            }
            guard case .tmpfs(let overlay) = plan.overlay else {
                fail(
                    BootFailure(phase: .overlay, action: "mounting the overlay", error: "only tmpfs overlays are supported by this build"),
                    phaseStart: MonotonicInstant.now())
            }
            phase(.overlay) { () throws(BootFailure) in try OverlayRoot(plan: overlay).mountOverlay(logger: self.logger) }
        case .startAgent(let port):
            runStatelite(plan)
            do {
                _ = try AgentStartup(
                    plan: plan, port: port, bootServerAddress: rootServerAddress,
                    mountedUpperDir: statelite.mountedUpperDir
                ).start(logger: logger)
            } catch {
                logger.warning("node-save agent not started: \(error)")
            }
        case .switchRoot:
            runStatelite(plan)
            switchRoot(plan.switchRoot)
        case .mountStateliteTmpfs:
            runStatelite(plan)
        case .mountOverlayDevice, .mountStatemnt, .mountLocalDisk, .mountLitetree, .applyLitefile, .linkMtab:
            // Done by mountOverlay (device) and runStatelite, which plans statelite again with the tables.
            break
        }
    }

    /// Statelite once, after the overlay and before the agent and switch_root (also when only the image holds tables).
    private func runStatelite(_ plan: BootPlan) {
        guard !statelite.done else { return }
        let state = networkState
        phase(.statelite) { () throws(BootFailure) in
            try self.statelite.apply(plan: plan, hostName: state?.hostname, resolve: { host in
                guard let state else { return nil }
                return (try? self.network.resolve(
                    host: host, nameservers: state.nameservers, searchDomains: state.searchDomains, logger: self.logger))?.first
            }, logger: self.logger, loadModule: { self.loadModules([$0], plan: plan) })
        }
    }

    private func earlyRootfs() throws(BootFailure) {
        try EarlyRootfs().create(logger: logger)
        if !Console.hasStandardError { try? Console.attachStandardStreams() }
        log.attachKernelLog()
        do {
            try FileSystem.makeDirectory(stateDirectory, mode: 0o700)
            try log.attachFile(path: stateDirectory + "/boot.log")
        } catch {
            logger.warning("no boot.log: \(error)")
        }
    }

    private func makePlan() throws(BootFailure) -> BootPlan {
        let bytes = (try? FileContents.bytes(at: "/proc/cmdline", limit: 65536)) ?? []
        let text = String(decoding: bytes, as: UTF8.self).filter { $0 != "\n" }
        logger.info("kernel command line: \(text)")
        let commandLine = KernelCommandLine(bytes: bytes)
        self.commandLine = commandLine
        // Failures before the plan exists (or when it cannot be built) follow rd.shell and rd.emergency too.
        let failure = DebugSpec.lenientFailurePolicy(commandLine)
        emergency = Emergency(
            shellOnFailure: failure.shellOnFailure, action: Power.Action(failure.emergencyAction), countdownSeconds: 10)
        do {
            return try BootPlanner.plan(BootInputs(commandLine: commandLine))
        } catch {
            throw BootFailure(
                phase: .commandLine, action: "reading the kernel command line", inputs: [.init("cmdline", text)],
                error: "\(error)")
        }
    }

    /// `root=dhcp`: the same command line planned again with the lease's root-path (option 17), so the root, the
    /// image identity and statelite all see the real server and path.
    private func planWithDHCPRootPath() throws(BootFailure) -> BootPlan {
        let rootPath = networkState?.rootPath ?? ""
        func failure(_ error: String) -> BootFailure {
            BootFailure(
                phase: .dhcpRoot, action: "reading the root from DHCP (root=dhcp)",
                inputs: [
                    .init("root", "dhcp"), .init("interface", networkState?.interface ?? "-"),
                    .init("dhcp server", networkState?.serverIdentifier ?? "-"),
                    .init("root-path", rootPath.isEmpty ? "-" : rootPath),
                ],
                error: error)
        }
        guard !rootPath.isEmpty else {
            throw failure("the DHCP server sent no root-path (option 17); set one on the server or give root=nfs:server:/path")
        }
        do {
            let plan = try BootPlanner.plan(BootInputs(
                commandLine: commandLine, hostName: networkState?.hostname, dhcpRootPath: rootPath))
            logger.info("root=dhcp: root-path \(rootPath) gives \(plan.root.server ?? "<next-server>"):\(plan.root.path)")
            return plan
        } catch {
            throw failure("\(error)")
        }
    }

    private func moduleLoader(plan: BootPlan) -> ModuleLoader? {
        if let modules { return modules }
        var parameters: [ModuleName: [String]] = [:]
        for parameter in plan.modules.parameters {
            let text = parameter.value.isEmpty ? parameter.name : "\(parameter.name)=\(parameter.value)"
            parameters[ModuleName(parameter.module), default: []].append(text)
        }
        do {
            let loader = try ModuleLoader(parameters: parameters, blacklist: Set(plan.modules.blacklist.map { ModuleName($0) }))
            modules = loader
            return loader
        } catch {
            logger.warning("no kernel modules: \(error); relying on built-in drivers")
            return nil
        }
    }

    private func loadModules(_ names: [String], plan: BootPlan) {
        guard var loader = moduleLoader(plan: plan) else { return }
        // The NFS version modules wait until the root mount tries that version (see mountRoot):
        // most boots never need nfsv3, and each module costs time to load.
        let deferred: Set<ModuleName> = ["nfsv3", "nfsv4"]
        let wanted = names.map { ModuleName($0) }.filter { !deferred.contains($0) }
        let outcome = loader.load(wanted, logger: logger)
        modules = loader
        report(outcome, what: "modules")
    }

    private func loadDeviceDrivers(plan: BootPlan) {
        guard var loader = moduleLoader(plan: plan) else { return }
        let outcome = loader.loadForPresentDevices(logger: logger)
        modules = loader
        report(outcome, what: "device drivers")
    }

    private func report(_ outcome: ModuleLoader.Outcome, what: String) {
        let names = outcome.loaded.map(\.rawValue).joined(separator: " ")
        logger.info("loaded \(outcome.loaded.count) \(what): \(names.isEmpty ? "none" : names)")
        for failure in outcome.failures { logger.warning("\(failure)") }
    }

    /// Retries the whole bring-up until rd.retry, since a link or DHCP server may come late.
    private func bringUpNetwork(_ plan: BootPlan) throws(BootFailure) -> NetworkState {
        let start = MonotonicInstant.now()
        var tries = 0
        var state: NetworkState
        while true {
            tries += 1
            do {
                state = try network.bringUp(plan: plan.network, logger: logger)
                break
            } catch {
                let elapsed = MonotonicInstant.now().milliseconds(since: start)
                if elapsed >= RetryBudget.milliseconds(seconds: plan.debug.retrySeconds) {
                    var failure = error
                    failure.attempts.append("\(tries) bring-up attempts over \(elapsed / 1000) s (rd.retry=\(plan.debug.retrySeconds))")
                    throw failure
                }
                logger.warning("network try \(tries) failed: \(error.error); retrying")
                Reaper.reapExited()
                Pause.sleep(milliseconds: 2000)
            }
        }
        if let name = state.hostname ?? plan.nodeName, !name.isEmpty {
            do {
                try Hostname.set(name)
            } catch {
                logger.warning("cannot set the host name to \(name): \(error.report)")
            }
        }
        do {
            try FileContents.write(state.resolvConf, to: "/run/resolv.conf")
        } catch {
            logger.warning("cannot write /run/resolv.conf: \(error)")
        }
        logger.info(
            "network up: \(state.interface) \(state.address) gateway \(state.gateway ?? "none") dns \(state.nameservers.joined(separator: ",")) host \(state.hostname ?? "-")")
        return state
    }

    private func mountRoot(_ plan: BootPlan) throws(BootFailure) {
        let state = networkState ?? NetworkState(interface: "-", address: "0.0.0.0")
        guard let location = RootLocation(plan: plan.root, network: state) else {
            throw BootFailure(
                phase: .nfsRoot, action: "finding the NFS server",
                inputs: [.init("root", plan.root.syntax), .init("path", plan.root.path)],
                error: "no server in the root parameter, no ip= peer, no DHCP next-server or server identifier")
        }
        let address: String
        if IPAddress(location.server) != nil {
            address = location.server
        } else {
            let addresses = try network.resolve(
                host: location.server, nameservers: state.nameservers, searchDomains: state.searchDomains, logger: logger)
            guard let first = addresses.first else {
                throw BootFailure(
                    phase: .nfsRoot, action: "resolving the NFS server name",
                    inputs: [.init("server", location.server), .init("nameservers", state.nameservers.joined(separator: ","))],
                    error: "no address for \(location.server)")
            }
            logger.info("resolved \(location.server) to \(first)")
            address = first
        }
        rootServerAddress = address
        do {
            try FileSystem.makeDirectory(plan.root.mountPoint, mode: 0o755)
        } catch {
            throw BootFailure(phase: .nfsRoot, action: "creating \(plan.root.mountPoint)", error: "\(error)")
        }
        let mount = NFSRootMount(
            attempts: plan.root.attempts, server: location.server, address: address, path: location.path,
            target: plan.root.mountPoint)
        _ = try mount.mountWithRetry(retrySeconds: plan.debug.retrySeconds, logger: logger) { attempt in
            self.loadVersionModule(attempt.version, plan: plan)
        }
    }

    private func loadVersionModule(_ version: String, plan: BootPlan) {
        guard var loader = moduleLoader(plan: plan) else { return }
        let module: ModuleName = version == "3" || version == "2" ? "nfsv3" : "nfsv4"
        let outcome = loader.load([module], logger: logger)
        modules = loader
        if !outcome.loaded.isEmpty || !outcome.failures.isEmpty { report(outcome, what: "modules for NFS \(version)") }
    }

    private func switchRoot(_ plan: SwitchRootPlan) -> Never {
        let start = MonotonicInstant.now()
        let switcher = SwitchRoot(
            newRoot: plan.newRoot, initPath: plan.initPath, initArguments: plan.initArguments,
            environment: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/", "TERM=linux"])
        let inputs: [BootFailure.Input] = [.init("root", plan.newRoot), .init("init", plan.initPath)]
        do {
            try switcher.validate()
        } catch {
            fail(BootFailure(phase: .switchRoot, action: "checking the new root", inputs: inputs, error: "\(error)"), phaseStart: start)
        }
        Reaper.reapExited()
        let end = MonotonicInstant.now()
        timeline.record(.switchRoot, start: start, end: end, succeeded: true)
        timeline.outcome = .switchRoot
        timeline.initExecMilliseconds = end.milliseconds
        writeTimeline()
        logger.info("phases: \(timeline.summary)")
        logger.info("switching root to \(plan.newRoot), exec \(plan.initPath) at \(end.milliseconds) ms after kernel start")
        do {
            try switcher.perform(logger: logger)
        } catch {
            // The initramfs may be gone by now; report and take the emergency action.
            fail(BootFailure(phase: .switchRoot, action: "switching to the new root", inputs: inputs, error: "\(error)"), phaseStart: start)
        }
    }

    // MARK: plumbing

    /// Runs one phase, timing it; a thrown BootFailure ends the boot in the emergency path.
    @discardableResult
    private func phase<T>(_ phase: BootPhase, _ body: () throws(BootFailure) -> T) -> T {
        let start = MonotonicInstant.now()
        logger.debug("phase \(phase.rawValue)")
        do {
            let result = try body()
            timeline.record(phase, start: start, end: MonotonicInstant.now(), succeeded: true)
            Reaper.reapExited()
            return result
        } catch {
            timeline.record(phase, start: start, end: MonotonicInstant.now(), succeeded: false)
            fail(error, phaseStart: start)
        }
    }

    private func fail(_ failure: BootFailure, phaseStart: MonotonicInstant) -> Never {
        let now = MonotonicInstant.now()
        timeline.outcome = .failed
        timeline.failure = failure.description
        writeTimeline()
        let report = FailureReport(
            failure: failure, phaseMilliseconds: now.milliseconds(since: phaseStart),
            bootMilliseconds: now.milliseconds, next: emergency.nextStep)
        logger.critical("\(report.lines.joined(separator: "\n"))")
        emergency.run(log: log, logger: logger)
    }

    private func writeTimeline() {
        do {
            try FileContents.write(timeline.json, to: stateDirectory + "/boot.json")
        } catch {
            logger.warning("cannot write boot.json: \(error)")
        }
    }

    public static let version = "0.1.0"
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

