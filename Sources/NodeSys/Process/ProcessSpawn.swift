import Glibc
import SystemPackage

/// Starting a program with posix_spawn, inheriting the caller's stdio (the console for PID 1).
public struct ProcessSpawn: Sendable {
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case spawn(path: String, Errno)

        public var description: String {
            switch self {
            case .spawn(let path, let e): "cannot start \(path): \(e) (errno \(e.rawValue))"
            }
        }
    }

    public var path: String
    public var arguments: [String]
    public var environment: [String]

    public init(path: String, arguments: [String], environment: [String]) {
        self.path = path
        self.arguments = arguments
        self.environment = environment
    }

    /// Starts the program; argv[0] is `path`. Signal dispositions and mask are reset to defaults
    /// in the child.
    public func start() throws(Error) -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaultSignals = sigset_t()
        sigfillset(&defaultSignals)
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let code = posix_spawn(&pid, path, nil, &attributes, argv, envp)
        // posix_spawn returns the errno value instead of setting errno.
        if code != 0 { throw .spawn(path: path, Errno(rawValue: code)) }
        return pid
    }

    /// Starts the program and waits for it, reaping other children meanwhile.
    public func run() throws(Error) -> Reaper.Termination {
        Reaper.wait(for: try start())
    }
}
