import BootConfig
import Logging
import NodeSys
import SystemPackage

/// The kernel-facing actions of the boot steps that are not networking: mounts, host name, files under /run, kernel
/// modules, the debug shell, the agent process and the final switch_root. `LiveKernel` does them; the unit tests
/// walk whole plans with a fake that records them.
public protocol BootKernel: AnyObject {
    /// Reaps exited children (PID 1 inherits every orphan). A fake must not: waitpid(-1) in a test process would
    /// take children that are not the boot's, such as Swift Testing's exit-test processes.
    func reapExited()
    func isMountPoint(_ path: String) -> Bool
    func makeDirectory(_ path: String, mode: UInt32) throws(FileSystem.Error)
    func mount(_ mount: Mount) throws(Mount.Error)
    /// Detaches what is mounted on `path`.
    func unmount(_ path: String) throws(Errno)
    /// The owner of a mounted tree's top directory (nil when unreadable).
    func rootOwner(_ path: String) -> (uid: UInt32, gid: UInt32)?
    /// Sets the readahead (KiB) of the file system mounted at `path`; returns the one it had.
    func setReadahead(_ kibibytes: Int, ofMountAt path: String) throws(MountReadahead.Error) -> Int
    func setHostName(_ name: String) throws(Errno)
    func writeFile(_ text: String, to path: String) throws(FileContents.Error)
    /// Loads modules by name with their dependencies; names already present are skipped. `plan` gives the
    /// parameters and the blacklist (the same for the whole boot: one command line).
    func loadModules(_ names: [ModuleName], plan: ModulePlan, logger: Logger) -> ModuleLoader.Outcome
    /// Starts loading modules on a thread of their own; a later `loadModules` that needs one of them waits for it
    /// and reports what it did for them. Returns what cannot be loaded at all (or, when no thread starts, the load).
    func loadModulesInBackground(_ names: [ModuleName], label: String, plan: ModulePlan, logger: Logger)
        -> ModuleLoader.Outcome
    /// Loads drivers for devices present without one (modalias), honouring the blacklist: those of network and
    /// unclassified devices now, the others (storage, display...) on a thread of their own.
    func loadDriversForPresentDevices(plan: ModulePlan, logger: Logger) -> ModuleLoader.Outcome
    /// Waits for the background device drivers and loads drivers for any device still without one (a step that
    /// needs local block devices calls it first).
    func settleDeviceDrivers(plan: ModulePlan, logger: Logger) -> ModuleLoader.Outcome
    /// Before switch_root: waits for the named background loads and stops the device drivers' after the module in
    /// hand (what they had left loads after the exec, `switchRoot`); returns what no step has claimed yet.
    func settleModulesBeforeSwitchRoot(plan: ModulePlan, logger: Logger) -> ModuleLoader.Outcome
    /// The background loads waited for since the last call (for boot.json).
    func takeBackgroundReports() -> [BackgroundModuleLoad.Report]
    /// Runs the debug shell on the console until it exits.
    func shell(reason: String, logger: Logger)
    /// Starts the node-save agent and waits until it is inside the new root; returns its pid.
    func startAgent(_ startup: AgentStartup, logger: Logger) throws(AgentStartup.Error) -> Int32
    /// Prepares /run/initramfs and the shutdown record (`ShutdownHandover`).
    func prepareShutdown(_ handover: ShutdownHandover, logger: Logger) throws(ShutdownHandover.Error)
    /// Checks the new root before the point of no return.
    func validateNewRoot(_ switcher: SwitchRoot) throws(SwitchRoot.Error)
    /// Moves the mounts, frees the initramfs and execs the image's init; returns only on failure (or in a fake).
    func switchRoot(_ switcher: SwitchRoot, logger: Logger) throws(SwitchRoot.Error)
}

/// The real kernel. Module parameters and the blacklist are read from the plan once, when the loader is first needed.
public final class LiveKernel: BootKernel {
    /// Built on first use (reading modules.dep costs time); nil after it could not be read.
    private var loader: ModuleLoader?
    private var loaderFailed = false
    /// The device drivers still to load at switch_root (`ModuleLoader.settleForSwitchRoot`).
    private var driversAfterSwitchRoot: (@Sendable (FileDescriptor) -> Void)?

    /// False in host tests: reaping there would take the test runner's own children.
    private let reapsChildren: Bool

    public init(reapsChildren: Bool = true) {
        self.reapsChildren = reapsChildren
    }

    public func reapExited() { if reapsChildren { Reaper.reapExited() } }

    public func isMountPoint(_ path: String) -> Bool { FileSystem.isMountPoint(path) }

    public func makeDirectory(_ path: String, mode: UInt32) throws(FileSystem.Error) {
        try FileSystem.makeDirectory(path, mode: mode)
    }

    public func mount(_ mount: Mount) throws(Mount.Error) { try mount.mount() }

    public func unmount(_ path: String) throws(Errno) { try Mount.detach(path) }

    public func rootOwner(_ path: String) -> (uid: UInt32, gid: UInt32)? { Mount.rootOwner(path) }

    public func setReadahead(_ kibibytes: Int, ofMountAt path: String) throws(MountReadahead.Error) -> Int {
        try MountReadahead.set(kibibytes, ofMountAt: path)
    }

    public func setHostName(_ name: String) throws(Errno) { try Hostname.set(name) }

    public func writeFile(_ text: String, to path: String) throws(FileContents.Error) {
        try FileContents.write(text, to: path)
    }

    public func loadModules(_ names: [ModuleName], plan: ModulePlan, logger: Logger) -> ModuleLoader.Outcome {
        withLoader(plan, logger: logger) { $0.load(names, logger: logger) }
    }

    public func loadModulesInBackground(_ names: [ModuleName], label: String, plan: ModulePlan, logger: Logger)
        -> ModuleLoader.Outcome
    {
        withLoader(plan, logger: logger) { $0.loadInBackground(names, label: label, logger: logger) }
    }

    public func loadDriversForPresentDevices(plan: ModulePlan, logger: Logger) -> ModuleLoader.Outcome {
        withLoader(plan, logger: logger) {
            $0.loadForPresentDevices(logger: logger, deferring: ModuleLoader.isDeferrable(modalias:))
        }
    }

    public func settleDeviceDrivers(plan: ModulePlan, logger: Logger) -> ModuleLoader.Outcome {
        withLoader(plan, logger: logger) { $0.settleDevices(logger: logger) }
    }

    public func settleModulesBeforeSwitchRoot(plan: ModulePlan, logger: Logger) -> ModuleLoader.Outcome {
        withLoader(plan, logger: logger) {
            let (outcome, successor) = $0.settleForSwitchRoot(logger: logger)
            driversAfterSwitchRoot = successor
            return outcome
        }
    }

    public func takeBackgroundReports() -> [BackgroundModuleLoad.Report] {
        guard var current = loader else { return [] }
        let reports = current.takeBackgroundReports()
        loader = current
        return reports
    }

    public func shell(reason: String, logger: Logger) { DebugShell().run(reason: reason, logger: logger) }

    public func startAgent(_ startup: AgentStartup, logger: Logger) throws(AgentStartup.Error) -> Int32 {
        try startup.start(logger: logger)
    }

    public func prepareShutdown(_ handover: ShutdownHandover, logger: Logger) throws(ShutdownHandover.Error) {
        _ = try handover.prepare(logger: logger)
    }

    public func validateNewRoot(_ switcher: SwitchRoot) throws(SwitchRoot.Error) { try switcher.validate() }

    public func switchRoot(_ switcher: SwitchRoot, logger: Logger) throws(SwitchRoot.Error) {
        var switcher = switcher
        switcher.successorWork = driversAfterSwitchRoot
        try switcher.perform(logger: logger)
    }

    /// The one loader of this boot; it remembers what is loaded, so every call goes through here.
    private func withLoader(
        _ modulePlan: ModulePlan, logger: Logger, _ body: (inout ModuleLoader) -> ModuleLoader.Outcome
    ) -> ModuleLoader.Outcome {
        if loader == nil && !loaderFailed {
            var parameters: [ModuleName: [String]] = [:]
            for parameter in modulePlan.parameters {
                let text = parameter.value.isEmpty ? parameter.name : "\(parameter.name)=\(parameter.value)"
                parameters[ModuleName(parameter.module), default: []].append(text)
            }
            do {
                let created = try ModuleLoader(
                    parameters: parameters, blacklist: Set(modulePlan.blacklist.map { ModuleName($0) }))
                switch created.indexSource {
                case .table:
                    logger.info(
                        "module table \(ModuleTable.fileName): \(created.table.modules.count) modules, \(created.table.aliases.count) aliases"
                    )
                case .text(let reason):
                    logger.info("module index from modules.dep and modules.alias (\(reason))")
                }
                loader = created
            } catch {
                loaderFailed = true
                logger.warning("no kernel modules: \(error); relying on built-in drivers")
            }
        }
        guard var current = loader else { return ModuleLoader.Outcome() }
        let outcome = body(&current)
        loader = current
        return outcome
    }
}
