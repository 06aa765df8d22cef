import NodeSys
import RuntimeLayout
import SystemPackage

/// The end of a node's run, the other half of the boot: stop the node-save agent, end what is left running,
/// unmount the image's tree deepest first, leave every writable device's file system clean, then power off, reboot,
/// halt or kexec.
///
/// Why: a persistent overlay's device is mounted by the init, and the overlay root keeps a reference to it that no
/// mount point shows. systemd unmounts `/run/nodeinit/overlay-device` early and cannot unmount `/`, so without this
/// the ext4 under the upper is never unmounted nor made read-only: every boot starts from a file system that needs
/// journal recovery. systemd hands over to `/run/initramfs/shutdown` (its documented initrd interface, which dracut
/// uses the same way); images without systemd run `nodeinit shutdown VERB` as their last shutdown step.
public struct NodeShutdown {
    public var action: Power.Action
    public var origin: ShutdownPlanner.Origin
    public var record: ShutdownRecord
    public var system: any ShutdownSystem
    /// One console line per step.
    public var report: (String) -> Void
    /// How long processes get between SIGTERM and SIGKILL.
    public var terminateGraceMilliseconds = 3000
    /// Where a device whose file system outlived its mount point is mounted again to be made read-only.
    public var scratchMountPoint = RuntimeLayout.node.directory + "/shutdown-device"

    public init(
        action: Power.Action, origin: ShutdownPlanner.Origin, record: ShutdownRecord, system: any ShutdownSystem,
        report: @escaping (String) -> Void
    ) {
        self.action = action
        self.origin = origin
        self.record = record
        self.system = system
        self.report = report
    }

    /// What happened to each device, for the report and the tests.
    public enum DeviceOutcome: Sendable, Equatable {
        /// Its file system was released with the last unmount (clean on the device).
        case released
        /// Still active: remounted read-only (journal committed, marked clean).
        case remountedReadOnly
        case failed(String)
    }

    /// Runs every step; returns only when the kernel refused the final reboot(2) (with its errno).
    public func run() -> Errno {
        settle()
        report("\(action.rawValue) now")
        return system.power(action)
    }

    /// Everything but the final reboot(2): for an image whose own init powers off afterwards (busybox's
    /// `::shutdown:` action, which cannot know the verb; `nodeinit shutdown --unmount-only`).
    public func settle() {
        switch origin {
        case .returnedFromSystemd(let oldRoot):
            report("back in the initramfs from systemd (old root on \(oldRoot)); \(action.rawValue)")
        case .fromImage: report("shutting down from the image")
        }
        stopAgent()
        endOtherProcesses()
        system.sync()
        let remaining = unmountAll()
        remountReadOnly(remaining)
        for device in record.devices { _ = clean(device) }
        if case .returnedFromSystemd = origin {
            // Whatever is still there is read-only by now; detached, it goes with the last reference.
            for entry in currentMounts().filter({ unmountCandidate($0) }).reversed() {
                try? system.unmount(entry.target, detach: true)
            }
        }
        system.sync()
    }

    func stopAgent() {
        guard let pid = record.agentPID, system.isRunning(pid) else { return }
        system.signal(pid, .terminate)
        if waitUntil({ !system.isRunning(pid) }) {
            report("node-save agent (pid \(pid)) stopped")
        } else {
            system.signal(pid, .kill)
            report("node-save agent (pid \(pid)) did not stop within \(terminateGraceMilliseconds) ms: killed")
        }
    }

    /// SIGTERM to everyone, then SIGKILL to whoever is left after the grace time (systemd has done this already
    /// when it hands over; an image's own shutdown may not have).
    func endOtherProcesses() {
        guard !system.otherProcesses().isEmpty else { return }
        system.signalAll(.terminate)
        if !waitUntil({ system.otherProcesses().isEmpty }) {
            let left = system.otherProcesses()
            report(
                "\(left.count) process(es) still running after SIGTERM (\(left.prefix(8).map(String.init).joined(separator: " "))): SIGKILL"
            )
            system.signalAll(.kill)
            _ = waitUntil({ system.otherProcesses().isEmpty }, milliseconds: 1000)
        }
    }

    /// Polls `done` every 50 ms for at most `milliseconds`, reaping children meanwhile.
    func waitUntil(_ done: () -> Bool, milliseconds: Int? = nil) -> Bool {
        let limit = milliseconds ?? terminateGraceMilliseconds
        var waited = 0
        while true {
            system.reap()
            if done() { return true }
            if waited >= limit { return false }
            system.sleep(milliseconds: 50)
            waited += 50
        }
    }

    func currentMounts() -> [MountEntry] {
        do { return try system.mounts() } catch {
            report("\(error)")
            return []
        }
    }

    func unmountCandidate(_ entry: MountEntry) -> Bool {
        !ShutdownPlanner.unmountOrder([entry], origin: origin).isEmpty
    }

    /// Passes over the table until one unmounts nothing more (a busy mount may free up when its children go).
    /// Returns what stayed, deepest first.
    func unmountAll() -> [MountEntry] {
        var failures: [String: Errno] = [:]
        for _ in 0..<4 {
            var progress = false
            failures = [:]
            for entry in ShutdownPlanner.unmountOrder(currentMounts(), origin: origin) {
                do {
                    try system.unmount(entry.target, detach: false)
                    progress = true
                } catch {
                    failures[entry.target.description] = error
                }
            }
            if !progress { break }
        }
        let remaining = ShutdownPlanner.unmountOrder(currentMounts(), origin: origin)
        for entry in remaining {
            let reason = failures[entry.target.description].map { $0.report } ?? "still mounted"
            report("cannot unmount \(entry.target) (\(entry.fileSystemType) \(entry.source)): \(reason)")
        }
        return remaining
    }

    /// What could not be unmounted becomes read-only (in the image: / itself).
    func remountReadOnly(_ remaining: [MountEntry]) {
        // In the image `remaining` leaves / out (it is never unmounted): the table itself has it.
        let candidates = origin == .fromImage ? currentMounts() : remaining
        for entry in ShutdownPlanner.remountOrder(candidates, origin: origin) where !entry.isReadOnly {
            do {
                try system.remountReadOnly(entry.target)
                report("\(entry.target) remounted read-only")
            } catch {
                report("cannot remount \(entry.target) read-only: \(error.report)")
            }
        }
    }

    /// Leaves `device`'s file system clean: released already, or still mounted somewhere, or active with no mount
    /// point left (the overlay's hidden reference): then mounted again, which yields the same superblock, and
    /// remounted read-only.
    func clean(_ device: ShutdownRecord.WritableDevice) -> DeviceOutcome {
        let label = "\(device.fileSystemType) on \(device.device)"
        if let mounted = currentMounts().last(where: { $0.source == device.device }) {
            if mounted.isReadOnly {
                report("\(label): read-only on \(mounted.target)")
                return .remountedReadOnly
            }
            return remountAndRelease(label, at: mounted.target)
        }
        guard system.mayBeActive(device) else {
            report("\(label): released, clean")
            return .released
        }
        system.makeDirectory(scratchMountPoint)
        do {
            try system.mountDevice(device.device, at: scratchMountPoint, type: device.fileSystemType)
        } catch {
            report("\(label): released (mounting it again to check: \(error.report))")
            return .released
        }
        return remountAndRelease(label, at: FilePath(scratchMountPoint))
    }

    private func remountAndRelease(_ label: String, at target: FilePath) -> DeviceOutcome {
        do {
            try system.remountReadOnly(target)
        } catch {
            report("\(label): cannot remount read-only on \(target): \(error.report)")
            return .failed(error.report)
        }
        report("\(label): remounted read-only, clean")
        if (try? system.unmount(target, detach: false)) == nil {
            try? system.unmount(target, detach: true)
        }
        return .remountedReadOnly
    }
}

extension NodeShutdown {
    /// The action from the program's arguments: systemd passes its verb as argv[1], then its own options
    /// (`--log-level=...`), which are skipped. nil when no argument names one.
    public static func action(fromArguments arguments: [String]) -> Power.Action? {
        for argument in arguments.dropFirst() where !argument.hasPrefix("-") {
            return Power.Action(rawValue: argument)
        }
        return nil
    }

    /// The shutdown of this machine: `origin` from where we run (PID 1 with the old root on /oldroot: systemd
    /// handed over), the record the boot left. Returns the kernel's refusal of the final reboot(2).
    public static func live(action: Power.Action, report: @escaping (String) -> Void) -> Errno {
        live(action: action, report: report).run()
    }

    /// The shutdown of this machine, ready to `run()` or `settle()`.
    public static func live(action: Power.Action, report: @escaping (String) -> Void) -> NodeShutdown {
        let oldRoot = RuntimeLayout.shutdownOldRoot
        let handedOver = EarlyProcess.isPID1 && FileSystem.isMountPoint(oldRoot)
        let origin: ShutdownPlanner.Origin = handedOver ? .returnedFromSystemd(oldRoot: FilePath(oldRoot)) : .fromImage
        let layout = RuntimeLayout.node
        var record = ShutdownRecord()
        if let text = try? FileContents.string(at: layout.shutdownRecord, limit: 1 << 16) {
            record = ShutdownRecord(text: text)
        } else {
            report("no \(layout.shutdownRecord): nothing recorded to stop or clean; unmounting what can be")
        }
        return NodeShutdown(
            action: action, origin: origin, record: record, system: LiveShutdownSystem(), report: report)
    }
}
