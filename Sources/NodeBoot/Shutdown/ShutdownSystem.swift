import NodeSys
import SystemPackage

/// What the shutdown asks of the machine; `LiveShutdownSystem` is the kernel, tests give a fake.
public protocol ShutdownSystem {
    func mounts() throws(MountTable.Error) -> [MountEntry]
    func unmount(_ target: FilePath, detach: Bool) throws(Errno)
    func remountReadOnly(_ target: FilePath) throws(Errno)
    /// Mounts `device` on `target` (an active file system comes back as the same superblock).
    func mountDevice(_ device: String, at target: String, type: String) throws(Errno)
    /// False when the kernel shows for sure that no file system on `device` is active (nothing to clean);
    /// true when it is, or when it cannot tell.
    func mayBeActive(_ device: ShutdownRecord.WritableDevice) -> Bool
    func makeDirectory(_ path: String)
    func isRunning(_ pid: Int32) -> Bool
    func signal(_ pid: Int32, _ signal: ProcessSignals.Signal)
    func signalAll(_ signal: ProcessSignals.Signal)
    func otherProcesses() -> [Int32]
    /// Reaps ended children (PID 1 inherits every orphan).
    func reap()
    func sleep(milliseconds: Int)
    func sync()
    /// reboot(2); returns only when the kernel refused.
    func power(_ action: Power.Action) -> Errno
}

/// The real machine.
public struct LiveShutdownSystem: ShutdownSystem {
    public init() {}

    public func mounts() throws(MountTable.Error) -> [MountEntry] { try MountTable.current() }
    public func unmount(_ target: FilePath, detach: Bool) throws(Errno) { try Mount.unmount(target, detach: detach) }
    public func remountReadOnly(_ target: FilePath) throws(Errno) { try Mount.remountReadOnly(target) }
    public func mountDevice(_ device: String, at target: String, type: String) throws(Errno) {
        try Mount.mountDevice(device, at: target, type: type)
    }

    /// ext2/3/4 and xfs list each active file system in /sys/fs/<driver>/<device name>; the device may be a link
    /// (`/dev/disk/by-label/...`), so it is resolved first.
    public func mayBeActive(_ device: ShutdownRecord.WritableDevice) -> Bool {
        let driver: String
        switch device.fileSystemType {
        case "ext2", "ext3", "ext4": driver = "ext4"
        case "xfs": driver = "xfs"
        default: return true
        }
        guard FileSystem.exists("/sys/fs/\(driver)"), let resolved = FileSystem.resolvedPath(device.device) else {
            return true
        }
        let name = resolved.split(separator: "/").last.map(String.init) ?? ""
        return FileSystem.exists("/sys/fs/\(driver)/\(name)")
    }

    public func makeDirectory(_ path: String) { try? FileSystem.makeDirectory(path, mode: 0o700) }
    public func isRunning(_ pid: Int32) -> Bool { ProcessSignals.isRunning(pid) }
    public func signal(_ pid: Int32, _ signal: ProcessSignals.Signal) { ProcessSignals.send(signal, to: pid) }
    public func signalAll(_ signal: ProcessSignals.Signal) { ProcessSignals.sendToAll(signal) }
    public func otherProcesses() -> [Int32] { ProcessSignals.otherUserProcesses() }
    public func reap() { if EarlyProcess.isPID1 { Reaper.reapExited() } }
    public func sleep(milliseconds: Int) { Pause.sleep(milliseconds: UInt64(milliseconds)) }
    public func sync() { FileSystem.syncAll() }
    public func power(_ action: Power.Action) -> Errno { Power.perform(action) }
}
