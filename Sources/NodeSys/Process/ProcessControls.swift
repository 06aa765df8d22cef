import CNodeShim
import Glibc
import SystemPackage

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

    /// The calling thread's I/O scheduling class (0 none, 1 realtime, 2 best effort, 3 idle), -1 on error.
    public static func currentThreadIOClass() -> Int32 {
        nodeinit_get_thread_io_class()
    }

    /// The calling thread's nice value, read back from getpriority (for tests and logs).
    public static func currentThreadNice() -> Int32 {
        nodeinit_get_thread_nice()
    }
}

extension ProcessControls {
    /// True when `fd` is a terminal (progress bars redraw in place only there).
    public static func isTerminal(_ fd: FileDescriptor) -> Bool { isatty(fd.rawValue) == 1 }

    /// The width of the terminal on `fd`, or nil when it is not a terminal or does not say (lines redrawn in
    /// place must not wrap, or moving the cursor up by one line per node lands in the wrong place).
    public static func terminalColumns(_ fd: FileDescriptor) -> Int? {
        let columns = Int(nodeinit_terminal_columns(fd.rawValue))
        return columns > 0 ? columns : nil
    }

    public enum RootChangeError: Swift.Error, CustomStringConvertible, Equatable {
        case chroot(path: String, Errno)
        public var description: String {
            switch self {
            case .chroot(let path, let e): "cannot change root to \(path): \(e) (errno \(e.rawValue))"
            }
        }
    }

    /// chroot(path) then chdir("/"). The agent, started by the init before switch_root, enters the
    /// new root this way: when switch_root later moves that mount to "/" and moves /run, /proc, /dev
    /// into it, the agent sees the same tree as the booted system.
    public static func changeRoot(to path: String) throws(RootChangeError) {
        if chroot(path) == -1 { throw .chroot(path: path, Errno(rawValue: errno)) }
        if chdir("/") == -1 { throw .chroot(path: path, Errno(rawValue: errno)) }
    }

    /// fchdir(directory), chroot("."), chdir("/"), then closes `directory`: the root is the directory the
    /// descriptor was opened on, wherever that mount has moved since. The init hands the agent its new root this
    /// way, so it need not wait for the agent to get there before switch_root moves the mount to "/".
    public static func changeRoot(toDirectory directory: FileDescriptor) throws(RootChangeError) {
        defer { _ = close(directory.rawValue) }
        let what = "descriptor \(directory.rawValue)"
        if fchdir(directory.rawValue) == -1 { throw .chroot(path: what, Errno(rawValue: errno)) }
        if chroot(".") == -1 { throw .chroot(path: what, Errno(rawValue: errno)) }
        if chdir("/") == -1 { throw .chroot(path: what, Errno(rawValue: errno)) }
    }
}

/// Ending a command-line process.
public enum ProcessExit {
    /// exit(3): stdio buffers (what `print` wrote) are flushed first.
    public static func now(_ status: Int32) -> Never { exit(status) }
}
