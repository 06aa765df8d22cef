import NodeSys
import SystemPackage
import Testing

@testable import NodeBoot

/// A machine for the shutdown: a mount table, processes and devices that behave as the kernel's do for it.
final class FakeShutdownMachine: ShutdownSystem {
    var table: [MountEntry]
    /// Targets whose unmount fails with EBUSY (a process or a child keeps them).
    var busy: Set<String> = []
    /// Devices whose file system is active: while mounted, or kept by a mount that has not been unmounted.
    var keptAlive: [String: String] = [:]  // device -> the target whose mount keeps it (the overlay root)
    var processes: [Int32] = []
    /// Processes that ignore SIGTERM.
    var stubborn: Set<Int32> = []
    var events: [String] = []

    init(_ table: [MountEntry]) { self.table = table }

    func mounts() throws(MountTable.Error) -> [MountEntry] { table }

    func unmount(_ target: FilePath, detach: Bool) throws(Errno) {
        guard let index = table.lastIndex(where: { $0.target == target }) else { throw .invalidArgument }
        let hasChild = table.contains { $0.parentID == table[index].id }
        if !detach && (busy.contains(target.description) || hasChild) { throw .resourceBusy }
        events.append("\(detach ? "detach" : "umount") \(target)")
        table.remove(at: index)
        keptAlive = keptAlive.filter { $0.value != target.description }
    }

    func remountReadOnly(_ target: FilePath) throws(Errno) {
        guard let index = table.lastIndex(where: { $0.target == target }) else { throw .invalidArgument }
        events.append("ro \(target)")
        table[index].mountOptions = "ro"
        let source = table[index].source
        for other in table.indices where table[other].source == source { table[other].mountOptions = "ro" }
        if source.hasPrefix("/dev/") { keptAlive[source] = nil }
    }

    func mountDevice(_ device: String, at target: String, type: String) throws(Errno) {
        events.append("mount \(device) \(target)")
        let id = (table.map(\.id).max() ?? 0) + 1
        table.append(
            MountEntry(id: id, parentID: 1, source: device, target: FilePath(target), fileSystemType: type))
    }

    func mayBeActive(_ device: ShutdownRecord.WritableDevice) -> Bool {
        keptAlive[device.device] != nil || table.contains { $0.source == device.device }
    }
    func makeDirectory(_ path: String) {}
    func isRunning(_ pid: Int32) -> Bool { processes.contains(pid) }
    func signal(_ pid: Int32, _ signal: ProcessSignals.Signal) {
        events.append("signal \(pid) \(signal)")
        if signal == .kill || !stubborn.contains(pid) { processes.removeAll { $0 == pid } }
    }
    func signalAll(_ signal: ProcessSignals.Signal) {
        events.append("signal all \(signal)")
        processes.removeAll { signal == .kill || !stubborn.contains($0) }
    }
    func otherProcesses() -> [Int32] { processes }
    func reap() {}
    func sleep(milliseconds: Int) {}
    func sync() { events.append("sync") }
    func power(_ action: Power.Action) -> Errno {
        events.append("power \(action.rawValue)")
        return .notPermitted
    }
}

/// The mount table of a Debian node on a persistent overlay just after systemd's hand-over: the image on /oldroot,
/// systemd has unmounted /run/nodeinit/overlay-device (the overlay keeps the ext4 alive).
func handedOverTable() -> [MountEntry] {
    [
        MountEntry(id: 1, parentID: 0, source: "tmpfs", target: "/", fileSystemType: "tmpfs"),
        MountEntry(
            id: 20, parentID: 1, source: "overlay", target: "/oldroot", fileSystemType: "overlay",
            mountOptions: "ro", superOptions: "lowerdir=/run/nodeinit/lower,upperdir=/run/nodeinit/overlay-device/ovl"),
        MountEntry(
            id: 21, parentID: 20, source: "10.0.2.2:/img", target: "/oldroot/run/nodeinit/lower",
            fileSystemType: "nfs4", mountOptions: "ro"),
        MountEntry(id: 22, parentID: 20, source: "proc", target: "/oldroot/proc", fileSystemType: "proc"),
        MountEntry(id: 23, parentID: 20, source: "tmpfs", target: "/oldroot/run", fileSystemType: "tmpfs"),
        MountEntry(id: 24, parentID: 20, source: "devtmpfs", target: "/oldroot/dev", fileSystemType: "devtmpfs"),
        MountEntry(id: 25, parentID: 24, source: "devpts", target: "/oldroot/dev/pts", fileSystemType: "devpts"),
        MountEntry(id: 30, parentID: 1, source: "proc", target: "/proc", fileSystemType: "proc"),
    ]
}

/// A node shutting down from inside its image without systemd: the overlay root, /run, the persistent device
/// still mounted on /run/nodeinit/overlay-device.
func imageTable() -> [MountEntry] {
    [
        MountEntry(id: 1, parentID: 0, source: "overlay", target: "/", fileSystemType: "overlay"),
        MountEntry(id: 4, parentID: 1, source: "tmpfs", target: "/run", fileSystemType: "tmpfs"),
        MountEntry(
            id: 5, parentID: 4, source: "/dev/vda", target: "/run/nodeinit/overlay-device",
            fileSystemType: "ext4"),
    ]
}

@Suite struct ShutdownRecordTests {
    @Test func writableDevicesAreInnerFirstOncePerDeviceAndSkipReadOnlyAndNonDevices() {
        let mounts = [
            MountEntry(id: 1, parentID: 0, source: "rootfs", target: "/", fileSystemType: "rootfs"),
            MountEntry(
                id: 2, parentID: 1, source: "/dev/vda", target: "/run/nodeinit/overlay-device",
                fileSystemType: "ext4"),
            MountEntry(
                id: 3, parentID: 1, source: "/dev/loop0", target: "/run/nodeinit/overlay-device-image",
                fileSystemType: "ext4"),
            MountEntry(
                id: 4, parentID: 1, source: "/dev/vdb", target: "/sysroot/.sllocal/localmnt",
                fileSystemType: "xfs"),
            MountEntry(
                id: 5, parentID: 1, source: "/dev/vdb", target: "/sysroot/var/cache/local",
                fileSystemType: "xfs"),
            MountEntry(
                id: 6, parentID: 1, source: "/dev/sr0", target: "/mnt/cd", fileSystemType: "iso9660",
                mountOptions: "ro"),
            MountEntry(
                id: 7, parentID: 1, source: "10.0.2.2:/img", target: "/run/nodeinit/lower",
                fileSystemType: "nfs4"),
            MountEntry(id: 8, parentID: 1, source: "/dev/odd name", target: "/mnt/x", fileSystemType: "ext4"),
        ]
        let devices = ShutdownRecord.writableDevices(in: mounts)
        #expect(devices.map(\.device) == ["/dev/vdb", "/dev/loop0", "/dev/vda"])
        #expect(devices.map(\.fileSystemType) == ["xfs", "ext4", "ext4"])
    }

    @Test func textRoundTripsAndSkipsWhatItCannotRead() {
        let record = ShutdownRecord(
            agentPID: 312,
            devices: [
                .init(fileSystemType: "ext4", device: "/dev/loop0"), .init(fileSystemType: "ext4", device: "/dev/vda"),
            ])
        #expect(ShutdownRecord(text: record.text) == record)
        let read = ShutdownRecord(
            text: "agent-pid 1\nagent-pid x\ndevice ext4\ndevice ext4 vda\nfuture-key 1 2 3\ndevice xfs /dev/vdb\n\n")
        #expect(read == ShutdownRecord(agentPID: nil, devices: [.init(fileSystemType: "xfs", device: "/dev/vdb")]))
        #expect(ShutdownRecord(text: "") == ShutdownRecord())
    }
}

@Suite struct ShutdownPlannerTests {
    @Test func afterSystemdEverythingUnderTheOldRootGoesDeepestFirstTheRootLast() {
        let order = ShutdownPlanner.unmountOrder(handedOverTable(), origin: .returnedFromSystemd(oldRoot: "/oldroot"))
        let targets = order.map(\.target.description)
        #expect(targets.last == "/oldroot")
        #expect(targets.firstIndex(of: "/oldroot/dev/pts")! < targets.firstIndex(of: "/oldroot/dev")!)
        #expect(!targets.contains("/proc") && !targets.contains("/"))
        #expect(Set(targets) == Set(handedOverTable().map(\.target.description)).subtracting(["/", "/proc"]))
    }

    @Test func twoMountsOnOnePathGoLaterFirst() {
        let table = [
            MountEntry(id: 1, parentID: 0, source: "overlay", target: "/", fileSystemType: "overlay"),
            MountEntry(id: 2, parentID: 1, source: "/dev/vdb", target: "/data", fileSystemType: "ext4"),
            MountEntry(id: 3, parentID: 2, source: "tmpfs", target: "/data", fileSystemType: "tmpfs"),
        ]
        #expect(ShutdownPlanner.unmountOrder(table, origin: .fromImage).map(\.id) == [3, 2])
    }

    @Test func fromTheImageRootKernelFileSystemsAndRunStay() {
        let table = [
            MountEntry(id: 1, parentID: 0, source: "overlay", target: "/", fileSystemType: "overlay"),
            MountEntry(id: 2, parentID: 1, source: "proc", target: "/proc", fileSystemType: "proc"),
            MountEntry(id: 3, parentID: 1, source: "sysfs", target: "/sys", fileSystemType: "sysfs"),
            MountEntry(id: 4, parentID: 1, source: "tmpfs", target: "/run", fileSystemType: "tmpfs"),
            MountEntry(
                id: 5, parentID: 4, source: "/dev/vda", target: "/run/nodeinit/overlay-device",
                fileSystemType: "ext4"),
            MountEntry(
                id: 6, parentID: 1, source: "10.0.2.2:/state", target: "/.statelite/persistent",
                fileSystemType: "nfs4"),
            MountEntry(id: 7, parentID: 1, source: "tmpfs", target: "/.statelite", fileSystemType: "tmpfs"),
            MountEntry(id: 8, parentID: 1, source: "/dev/vdb", target: "/runway", fileSystemType: "ext4"),
        ]
        #expect(ShutdownPlanner.unmountOrder(table, origin: .fromImage).map(\.id) == [6, 8, 7])
        #expect(ShutdownPlanner.remountOrder(table, origin: .fromImage).map(\.id) == [1])
    }
}

@Suite struct NodeShutdownTests {
    func shutdown(_ machine: FakeShutdownMachine, _ origin: ShutdownPlanner.Origin, record: ShutdownRecord)
        -> (NodeShutdown, [String])
    {
        let lines = LineBox()
        var shutdown = NodeShutdown(
            action: .poweroff, origin: origin, record: record, system: machine, report: { lines.lines.append($0) })
        shutdown.scratchMountPoint = "/run/nodeinit/shutdown-device"
        _ = shutdown.run()
        return (shutdown, lines.lines)
    }

    final class LineBox { var lines: [String] = [] }

    @Test func afterSystemdTheOverlayGoesAndWithItTheDeviceItKept() {
        let machine = FakeShutdownMachine(handedOverTable())
        machine.keptAlive["/dev/vda"] = "/oldroot"
        machine.processes = [312]
        let record = ShutdownRecord(agentPID: 312, devices: [.init(fileSystemType: "ext4", device: "/dev/vda")])
        let (_, lines) = shutdown(machine, .returnedFromSystemd(oldRoot: "/oldroot"), record: record)
        let events = machine.events
        #expect(events.first == "signal 312 terminate", "the agent is stopped first: \(events)")
        #expect(events.contains("umount /oldroot"))
        #expect(!events.contains { $0.hasPrefix("mount /dev/vda") }, "released with the overlay: \(events)")
        #expect(lines.contains("ext4 on /dev/vda: released, clean"), "\(lines)")
        #expect(events.last == "power poweroff")
        #expect(machine.table.map(\.target) == ["/", "/proc"])
    }

    @Test func aBusyOverlayIsRemountedReadOnlyAndTheHiddenDeviceMountedAgainToBeMadeClean() {
        let machine = FakeShutdownMachine(handedOverTable())
        machine.table[1].mountOptions = "rw"
        machine.busy = ["/oldroot"]
        machine.keptAlive["/dev/vda"] = "/oldroot"
        let record = ShutdownRecord(devices: [.init(fileSystemType: "ext4", device: "/dev/vda")])
        let (_, lines) = shutdown(machine, .returnedFromSystemd(oldRoot: "/oldroot"), record: record)
        let events = machine.events
        let remount = events.firstIndex(of: "ro /oldroot")
        let again = events.firstIndex(of: "mount /dev/vda /run/nodeinit/shutdown-device")
        #expect(remount != nil && again != nil && remount! < again!, "\(events)")
        #expect(events.contains("ro /run/nodeinit/shutdown-device"))
        #expect(lines.contains("ext4 on /dev/vda: remounted read-only, clean"), "\(lines)")
        #expect(lines.contains { $0.hasPrefix("cannot unmount /oldroot (overlay overlay)") }, "\(lines)")
        #expect(events.contains("detach /oldroot"), "what is left is detached at the end: \(events)")
        #expect(events.last == "power poweroff")
    }

    @Test func fromTheImageProcessesEndTheDeviceStillMountedBecomesReadOnlyAndTheRootToo() {
        let machine = FakeShutdownMachine(
            imageTable() + [
                MountEntry(
                    id: 6, parentID: 1, source: "10.0.2.2:/state", target: "/.statelite/persistent",
                    fileSystemType: "nfs4")
            ])
        machine.processes = [100, 200, 312]
        machine.stubborn = [200]
        let record = ShutdownRecord(agentPID: 312, devices: [.init(fileSystemType: "ext4", device: "/dev/vda")])
        let (_, lines) = shutdown(machine, .fromImage, record: record)
        let events = machine.events
        #expect(Array(events.prefix(4)) == ["signal 312 terminate", "signal all terminate", "signal all kill", "sync"])
        #expect(lines.contains { $0.contains("1 process(es) still running after SIGTERM (200): SIGKILL") }, "\(lines)")
        #expect(events.contains("umount /.statelite/persistent"))
        #expect(events.contains("ro /"), "\(events)")
        #expect(events.contains("ro /run/nodeinit/overlay-device"), "\(events)")
        #expect(events.firstIndex(of: "ro /")! < events.firstIndex(of: "ro /run/nodeinit/overlay-device")!)
        #expect(!events.contains { $0.hasPrefix("detach") }, "nothing is detached from the image: \(events)")
        #expect(events.last == "power poweroff")
    }

    @Test func unmountOnlySettlesEverythingAndLeavesThePowerToTheImagesInit() {
        // busybox's `::shutdown:/run/nodeinit/nodeinit shutdown --unmount-only`: busybox powers off afterwards.
        let machine = FakeShutdownMachine(imageTable())
        let record = ShutdownRecord(devices: [.init(fileSystemType: "ext4", device: "/dev/vda")])
        let lines = LineBox()
        let shutdown = NodeShutdown(
            action: .poweroff, origin: .fromImage, record: record, system: machine, report: { lines.lines.append($0) })
        shutdown.settle()
        #expect(machine.events.contains("ro /") && machine.events.contains("ro /run/nodeinit/overlay-device"))
        #expect(!machine.events.contains { $0.hasPrefix("power") }, "\(machine.events)")
        #expect(machine.events.last == "sync")
    }

    @Test func aDeviceAlreadyReleasedIsLeftAlone() {
        let machine = FakeShutdownMachine(handedOverTable())
        let record = ShutdownRecord(devices: [.init(fileSystemType: "ext4", device: "/dev/vdb")])
        let (_, lines) = shutdown(machine, .returnedFromSystemd(oldRoot: "/oldroot"), record: record)
        #expect(!machine.events.contains { $0.hasPrefix("mount ") })
        #expect(lines.contains("ext4 on /dev/vdb: released, clean"))
    }

    @Test func systemdsVerbIsTheFirstWordAfterTheProgramItsOptionsAreSkipped() {
        #expect(NodeShutdown.action(fromArguments: ["/shutdown", "reboot", "--log-level", "6"]) == .reboot)
        #expect(
            NodeShutdown.action(fromArguments: ["/shutdown", "--log-target=kmsg", "poweroff", "--timeout=90s"])
                == .poweroff)
        #expect(NodeShutdown.action(fromArguments: ["/shutdown", "kexec"]) == .kexec)
        #expect(NodeShutdown.action(fromArguments: ["/shutdown", "halt"]) == .halt)
        #expect(NodeShutdown.action(fromArguments: ["/shutdown"]) == nil)
        #expect(NodeShutdown.action(fromArguments: ["/shutdown", "suspend"]) == nil)
    }
}
