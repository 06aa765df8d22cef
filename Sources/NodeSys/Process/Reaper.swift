import Glibc

/// Collects exit statuses of children, including orphans the kernel re-parents to PID 1.
/// The boot is one thread, so reaping happens at its waiting points: between retries, while a
/// shell runs, and before switch_root; nothing else calls wait, so no exit is stolen.
public enum Reaper {
    /// How a child ended.
    public enum Termination: Sendable, Equatable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32)

        init(status: Int32) {
            let signal = status & 0x7f
            self = signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
        }

        public var description: String {
            switch self {
            case .exited(let code): "exit status \(code)"
            case .signaled(let signal): "killed by signal \(signal)"
            }
        }
    }

    /// Reaps every child that has already ended, without blocking. Returns how many.
    @discardableResult
    public static func reapExited() -> Int {
        var count = 0
        var status: Int32 = 0
        // 0: children remain but none has ended; ECHILD: no children at all.
        while case .success(let pid) = valueOrErrno({ waitpid(-1, &status, WNOHANG) }), pid > 0 { count += 1 }
        return count
    }

    /// Blocks until `pid` ends, reaping any other child that ends meanwhile.
    public static func wait(for pid: pid_t) -> Termination {
        while true {
            var status: Int32 = 0
            switch valueOrErrno({ waitpid(-1, &status, 0) }) {
            case .success(let reaped): if reaped == pid { return Termination(status: status) }
            // ECHILD: the child is gone already (someone else reaped it); report it as ended.
            case .failure: return .exited(-1)
            }
        }
    }
}
