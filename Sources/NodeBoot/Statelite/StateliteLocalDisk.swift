import BootConfig
import NodeSys

extension StateliteSetup {
    /// `nodeinit.localdisk=<devspec>`: what xCAT's rc.localdisk does, minus asking xcatd for a partition layout
    /// (nodeinit neither partitions nor formats): the `/.sllocal/log` tmpfs, then the named device, found as the
    /// persistent overlay's device is, mounted read-write on `/.sllocal/localmnt` in the new root (so it survives
    /// switch_root). A device missing after the wait, without a file system, or that will not mount is a loud
    /// warning, and `localdisk` entries then stay in RAM (each says so). Returns true when the disk is mounted.
    func mountLocalDisk(_ disk: LocalDiskPlan, root: ConfinedTree) -> Bool {
        do {
            FileTree.closeQuietly(try root.ensureDirectory(disk.logMountPoint) { self.placed.placed($0) })
            // Source name `rw`, as xCAT's.
            try root.mount(source: "rw", fileSystemType: "tmpfs", data: "mode=0755", at: disk.logMountPoint)
            log.action("mounted tmpfs", from: "rw", to: disk.logMountPoint, loud: true)
        } catch {
            log.warning("cannot mount the tmpfs on \(disk.logMountPoint): \(error)")
        }
        let deviceMount = LocalDeviceMount(
            device: disk.device, role: "local disk", timeoutSeconds: environment.deviceTimeoutSeconds,
            resolver: environment.deviceResolver, loadModule: environment.loadModule,
            console: { self.log.notice($0) })
        do {
            let mounted = try deviceMount.mount(in: root, at: disk.mountPoint) { self.placed.placed($0) }
            log.action(
                "mounted local disk \(disk.device) (\(mounted.fileSystemType)) read-write", from: mounted.devicePath,
                to: disk.mountPoint)
            return true
        } catch {
            log.warning(
                "local disk \(disk.device) (nodeinit.localdisk): \(error); localdisk entries are kept in RAM and LOST at reboot"
            )
            return false
        }
    }
}
