import Logging
import NodeSys

/// The PID-1 boot: early mounts, command line, modules, network, NFS root, overlay, switch_root.
/// Any fatal step ends in one failure report and the emergency path. `run()` never returns.
public final class BootSequence {
    public typealias SettingsBuilder = (_ commandLine: String, _ logger: Logger) throws(BootFailure) -> BootSettings

    private let log: KernelLog
    private var logger: Logger
    private let network: any BootNetwork
    private let buildSettings: SettingsBuilder
    private var timeline: BootTimeline
    private var emergency: Emergency
    private var commandLine = ""
    public var layout = OverlayRoot.Layout()

    public init(network: any BootNetwork, log: KernelLog = .boot, buildSettings: @escaping SettingsBuilder) {
        self.log = log
        self.network = network
        self.buildSettings = buildSettings
        var logger = Logger(label: "nodeinit", factory: { _ in KernelLogHandler(sink: log) })
        logger.logLevel = .info
        self.logger = logger
        self.timeline = BootTimeline(initStartMilliseconds: MonotonicInstant.now().milliseconds)
        self.emergency = Emergency(shellOnFailure: false, action: .reboot, countdownSeconds: 10)
    }

    public func run() -> Never {
        phase(.earlyRootfs) { () throws(BootFailure) in try self.earlyRootfs() }
        logger.info("nodeinit \(Self.version) started as PID 1, \(timeline.initStartMilliseconds) ms after kernel start")

        let settings = phase(.commandLine) { () throws(BootFailure) -> BootSettings in
            self.commandLine = (try? FileContents.string(at: "/proc/cmdline", limit: 65536)) ?? ""
            self.logger.info("kernel command line: \(self.commandLine.split(whereSeparator: \.isNewline).first ?? "")")
            self.emergency = EmergencyPolicy.scan(self.commandLine)
            return try self.buildSettings(self.commandLine, self.logger)
        }
        emergency = Emergency(
            shellOnFailure: settings.shellOnFailure, action: settings.emergencyAction,
            countdownSeconds: settings.emergencyCountdownSeconds)
        if settings.verbose { logger.logLevel = .debug }
        pause(at: .cmdline, shellPoint: nil, settings)

        pause(at: .preUdev, shellPoint: nil, settings)
        pause(at: .preTrigger, shellPoint: nil, settings)
        phase(.modules) { () throws(BootFailure) in self.loadModules(settings) }

        pause(at: .initqueue, shellPoint: nil, settings)
        let networkState = phase(.network) { () throws(BootFailure) -> NetworkState in
            try self.bringUpNetwork(settings)
        }

        pause(at: .preMount, shellPoint: nil, settings)
        phase(.nfsRoot) { () throws(BootFailure) in try self.mountRoot(settings, network: networkState) }
        pause(at: .mount, shellPoint: "after the root mount", settings)

        phase(.overlay) { () throws(BootFailure) in
            try OverlayRoot(layout: self.layout, request: settings.overlay).mount(logger: self.logger)
        }
        pause(at: .prePivot, shellPoint: "after the overlay", settings)
        pause(at: .cleanup, shellPoint: "before switch_root", settings)

        switchRoot(settings)
    }

    // MARK: phases

    private func earlyRootfs() throws(BootFailure) {
        try EarlyRootfs().create(logger: logger)
        if !Console.hasStandardError { try? Console.attachStandardStreams() }
        log.attachKernelLog()
        do {
            try FileSystem.makeDirectory(layout.stateDirectory, mode: 0o700)
            try log.attachFile(path: layout.stateDirectory + "/boot.log")
        } catch {
            logger.warning("no boot.log: \(error)")
        }
    }

    private func loadModules(_ settings: BootSettings) {
        var loader: ModuleLoader
        do {
            loader = try ModuleLoader(parameters: settings.moduleParameters)
        } catch {
            logger.warning("no kernel modules loaded: \(error); relying on built-in drivers")
            return
        }
        var outcome = loader.loadForPresentDevices(logger: logger)
        var wanted: [ModuleName] = ["overlay"]
        if settings.root.version != .v3 { wanted.append("nfsv4") }
        if settings.root.version == nil || settings.root.version == .v3 { wanted.append("nfsv3") }
        wanted += settings.extraModules
        outcome.absorb(loader.load(wanted, logger: logger))
        let loaded = outcome.loaded.map(\.rawValue).joined(separator: " ")
        logger.info("loaded \(outcome.loaded.count) modules: \(loaded.isEmpty ? "none" : loaded)")
        for failure in outcome.failures { logger.warning("module: \(failure)") }
    }

    private func bringUpNetwork(_ settings: BootSettings) throws(BootFailure) -> NetworkState {
        let state = try network.bringUp(settings: settings, logger: logger)
        var withNameservers = state
        if withNameservers.nameservers.isEmpty { withNameservers.nameservers = settings.network.nameservers }
        do {
            try FileContents.write(withNameservers.resolvConf, to: "/run/resolv.conf")
        } catch {
            logger.warning("cannot write /run/resolv.conf: \(error)")
        }
        logger.info("network up: \(state.interface) \(state.address) gateway \(state.gateway ?? "none") dns \(withNameservers.nameservers.joined(separator: ","))")
        return withNameservers
    }

    private func mountRoot(_ settings: BootSettings, network state: NetworkState) throws(BootFailure) {
        let server = settings.root.server
        let address: String
        if IPLiteral.isLiteral(server) {
            address = server
        } else {
            let addresses = try network.resolve(host: server, nameservers: state.nameservers, logger: logger)
            guard let first = addresses.first else {
                throw BootFailure(
                    phase: .nfsRoot, action: "resolving the NFS server name",
                    inputs: [.init("server", server), .init("nameservers", state.nameservers.joined(separator: ","))],
                    error: "no address for \(server)")
            }
            logger.info("resolved \(server) to \(first)")
            address = first
        }
        do {
            try FileSystem.makeDirectory(layout.lower, mode: 0o755)
        } catch {
            throw BootFailure(phase: .nfsRoot, action: "creating \(layout.lower)", error: "\(error)")
        }
        let mount = NFSRootMount(request: settings.root, address: address, target: layout.lower)
        _ = try mount.mountWithRetry(retrySeconds: settings.retrySeconds, logger: logger)
    }

    private func switchRoot(_ settings: BootSettings) -> Never {
        let start = MonotonicInstant.now()
        let switcher = SwitchRoot(
            newRoot: layout.merged, initPath: settings.initPath, initArguments: settings.initArguments,
            environment: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/", "TERM=linux"])
        do {
            try switcher.validate()
        } catch {
            fail(
                BootFailure(
                    phase: .switchRoot, action: "checking the new root",
                    inputs: [.init("root", layout.merged), .init("init", settings.initPath)], error: "\(error)"),
                phaseStart: start)
        }
        Reaper.reapExited()
        let end = MonotonicInstant.now()
        timeline.record(.switchRoot, start: start, end: end, succeeded: true)
        timeline.outcome = .switchRoot
        timeline.initExecMilliseconds = end.milliseconds
        writeTimeline()
        logger.info("phases: \(timeline.summary)")
        logger.info("switching root to \(layout.merged), exec \(settings.initPath) at \(end.milliseconds) ms after kernel start")
        do {
            try switcher.perform(logger: logger)
        } catch {
            // The initramfs may be gone by now; report and take the emergency action from the new root.
            fail(
                BootFailure(
                    phase: .switchRoot, action: "switching to the new root",
                    inputs: [.init("root", layout.merged), .init("init", settings.initPath)], error: "\(error)"),
                phaseStart: start)
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

    private func pause(at stage: BootStage, shellPoint: String?, _ settings: BootSettings) {
        if settings.breakStages.contains(stage) {
            DebugShell().run(reason: "rd.break=\(stage.rawValue)", logger: logger)
        } else if settings.debugShell, let shellPoint {
            DebugShell().run(reason: "shell: \(shellPoint)", logger: logger)
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
            try FileContents.write(timeline.json, to: layout.stateDirectory + "/boot.json")
        } catch {
            logger.warning("cannot write boot.json: \(error)")
        }
    }

    public static let version = "0.1.0"
}

/// rd.shell and rd.emergency read straight from the command line, for failures that happen before
/// (or while) the boot settings are built.
enum EmergencyPolicy {
    static func scan(_ commandLine: String) -> Emergency {
        var shell = false
        var action = Power.Action.reboot
        for word in commandLine.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }) {
            switch word {
            case "rd.shell", "rd.shell=1", "shell": shell = true
            case "rd.shell=0": shell = false
            default:
                if word.hasPrefix("rd.emergency="), let chosen = Power.Action(rawValue: String(word.dropFirst(13))) {
                    action = chosen
                }
            }
        }
        return Emergency(shellOnFailure: shell, action: action, countdownSeconds: 10)
    }
}
