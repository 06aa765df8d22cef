import CNodeShim
import Glibc
import SystemPackage

/// Ending the machine's run: reboot(2) after sync(2).
public enum Power {
    public enum Action: String, Sendable, CaseIterable {
        case reboot, poweroff, halt
    }

    /// Flushes file systems and performs `action`. Returns only if the kernel refused.
    public static func perform(_ action: Action) -> Errno {
        sync()
        let command: Int32 =
            switch action {
            case .reboot: nodeinit_reboot_cmd_restart()
            case .poweroff: nodeinit_reboot_cmd_power_off()
            case .halt: nodeinit_reboot_cmd_halt()
            }
        _ = nodeinit_reboot(command)
        return .captured
    }
}
