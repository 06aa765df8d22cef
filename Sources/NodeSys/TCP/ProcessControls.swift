import CNodeShim
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Process-wide settings a long-running network service needs.
public enum ProcessControls {
    /// Ignores SIGPIPE. Sockets already send with MSG_NOSIGNAL, but a capture writing into a pipe
    /// whose reader left (a client that disconnected) would otherwise kill the whole agent.
    public static func ignoreBrokenPipeSignal() {
        _ = signal(SIGPIPE, SIG_IGN)
    }

    /// Lowers the calling thread to nice 19 and the idle I/O class, so a capture never competes with
    /// the node's workload. Per thread: the agent's accept loop keeps its normal priority.
    /// Returns a description of what could not be applied (nil when both were).
    @discardableResult
    public static func lowerCurrentThreadPriority() -> String? {
        var failures: [String] = []
        if nodeinit_set_thread_nice(19) == -1 {
            let e = Errno(rawValue: errno)
            failures.append("setpriority nice 19: \(e) (errno \(e.rawValue))")
        }
        if nodeinit_set_thread_io_priority_idle() == -1 {
            let e = Errno(rawValue: errno)
            failures.append("ioprio_set idle: \(e) (errno \(e.rawValue))")
        }
        return failures.isEmpty ? nil : failures.joined(separator: "; ")
    }

    /// The calling thread's nice value, read back from getpriority (for tests and logs).
    public static func currentThreadNice() -> Int32 {
        nodeinit_get_thread_nice()
    }
}
