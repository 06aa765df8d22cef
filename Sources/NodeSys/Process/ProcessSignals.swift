import Glibc

/// Signals to other processes, and who is still running: what a shutdown needs before it unmounts.
public enum ProcessSignals {
    public enum Signal: Sendable {
        case terminate, kill

        var number: Int32 { self == .terminate ? SIGTERM : SIGKILL }
    }

    /// kill(2) of one process; false when it is gone (or was never there).
    @discardableResult
    public static func send(_ signal: Signal, to pid: Int32) -> Bool {
        pid > 1 && kill(pid, signal.number) == 0
    }

    /// kill(-1): every process but PID 1 and the caller (kernel threads ignore it).
    public static func sendToAll(_ signal: Signal) {
        _ = kill(-1, signal.number)
    }

    /// True when the process is gone or a zombie (the state field after the last ')' of /proc/<pid>/stat).
    public static func hasEnded(_ pid: Int32) -> Bool {
        guard let stat = try? FileContents.string(at: "/proc/\(pid)/stat", limit: 4096) else { return true }
        guard let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].drop(while: { $0 == " " }).first
        return state == "Z" || state == "X"
    }

    /// True while `pid` exists and has not ended.
    public static func isRunning(_ pid: Int32) -> Bool { pid > 0 && !hasEnded(pid) }

    /// The user-space processes still running, but for PID 1 and the caller: /proc's numeric entries whose
    /// cmdline is not empty (a kernel thread's is) and that are not zombies.
    public static func otherUserProcesses() -> [Int32] {
        guard let directory = opendir("/proc") else { return [] }
        defer { closedir(directory) }
        let own = getpid()
        var found: [Int32] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard let pid = Int32(name), pid > 1, pid != own else { continue }
            guard let cmdline = try? FileContents.bytes(at: "/proc/\(pid)/cmdline", limit: 16), !cmdline.isEmpty
            else { continue }
            if isRunning(pid) { found.append(pid) }
        }
        return found.sorted()
    }
}
