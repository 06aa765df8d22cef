import CNodeShim
import Glibc

/// The first things PID 1 does, before any library that needs /proc runs.
public enum EarlyProcess {
    public static var isPID1: Bool { getpid() == 1 }

    /// True when PID 1 started before the kernel's random generator was ready, so the Swift runtime hashes with its
    /// fixed seed instead of waiting for it (CNodeShim random.c). Clears the flag and the environment variable, so
    /// the processes PID 1 starts are seeded randomly: call first thing, before any child exists.
    public static func tookFixedHashSeed() -> Bool { nodeinit_take_deterministic_hashing_flag() != 0 }

    /// Mounts /proc with mount(2) directly: libmount itself reads /proc/self/mountinfo, and the
    /// Swift runtime needs /proc/self/exe to find itself. Already-mounted is fine.
    public static func mountProc() {
        if access("/proc/self/cmdline", F_OK) == 0 { return }
        mkdir("/proc", 0o555)
        _ = mount("proc", "/proc", "proc", UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC), nil)
    }

    /// argv from /proc/self/cmdline: a static binary started as PID 1 sees an empty
    /// CommandLine.arguments.
    public static func arguments() -> [String] {
        guard let bytes = try? FileContents.bytes(at: "/proc/self/cmdline", limit: 1 << 20) else { return [] }
        var parts = bytes.split(separator: 0, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
        if parts.last == "" { parts.removeLast() }
        return parts
    }
}
