import CNodeShim
import Glibc
import SystemPackage

/// Ending the machine's run: reboot(2) after sync(2).
public enum Power {
    /// What to do at the end; the raw values are systemd's shutdown verbs (`/run/initramfs/shutdown VERB`).
    public enum Action: String, Sendable, CaseIterable {
        case reboot, poweroff, halt, kexec
    }

    /// Flushes file systems and performs `action`. Returns only if the kernel refused. `kexec` with no kernel
    /// loaded falls back to `reboot`, as systemd does.
    public static func perform(_ action: Action) -> Errno {
        sync()
        let command: Int32 =
            switch action {
            case .reboot: nodeinit_reboot_cmd_restart()
            case .poweroff: nodeinit_reboot_cmd_power_off()
            case .halt: nodeinit_reboot_cmd_halt()
            case .kexec: nodeinit_reboot_cmd_kexec()
            }
        _ = nodeinit_reboot(command)
        if action == .kexec {
            _ = nodeinit_reboot(nodeinit_reboot_cmd_restart())
        }
        return .captured
    }
}
