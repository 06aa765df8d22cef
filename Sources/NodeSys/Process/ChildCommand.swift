import CNodeShim
import Glibc
import SystemPackage

/// Runs other programs with posix_spawn (no fork of a threaded Swift process).
public enum ChildCommand {
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case spawn(program: String, Errno)
        case wait(program: String, Errno)
        case failed(command: String, status: String)

        public var description: String {
            switch self {
            case .spawn(let program, let e): "cannot start \(program): \(e) (errno \(e.rawValue))"
            case .wait(let program, let e): "cannot wait for \(program): \(e) (errno \(e.rawValue))"
            case .failed(let command, let status): "\(command) failed: \(status)"
            }
        }
    }

    /// Runs `arguments` (argv[0] looked up in PATH), inheriting stdio, and waits; throws unless it exits 0.
    public static func run(_ arguments: [String]) throws(Error) {
        let program = arguments.first ?? ""
        let pid = try spawn(arguments, program: program, fileActions: nil, attributes: nil, searchPath: true)
        var status: Int32 = 0
        if case .failure(let e) = valueOrErrno({ waitpid(pid, &status, 0) }) { throw .wait(program: program, e) }
        let exited = (status & 0x7f) == 0
        let code = (status >> 8) & 0xff
        if exited && code == 0 { return }
        let text = exited ? "exit status \(code)" : "killed by signal \(status & 0x7f)"
        throw .failed(command: arguments.joined(separator: " "), status: text)
    }

    /// Runs `arguments` (argv[0] an absolute path or looked up in PATH) with stdout read into memory (at most
    /// `limit` bytes; more is an error) and stderr inherited, and waits; throws unless it exits 0.
    public static func output(_ arguments: [String], limit: Int = 16 << 20) throws(Error) -> [UInt8] {
        let program = arguments.first ?? ""
        var ends: [Int32] = [-1, -1]
        if pipe(&ends) == -1 { throw .spawn(program: program, Errno(rawValue: errno)) }
        // Close-on-exec on both ends: the child gets the write end only as its stdout (dup2 clears the flag).
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, ends[1], 1)
        let pid: pid_t
        do {
            pid = try spawn(arguments, program: program, fileActions: &actions, attributes: nil, searchPath: true)
        } catch {
            close(ends[0])
            close(ends[1])
            throw error
        }
        close(ends[1])
        var collected: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        var readError: Errno?
        while true {
            let result = chunk.withUnsafeMutableBytes { buffer in
                valueOrErrno { read(ends[0], buffer.baseAddress, buffer.count) }
            }
            guard case .success(let count) = result else {
                if case .failure(let e) = result { readError = e }
                break
            }
            if count == 0 { break }
            collected.append(contentsOf: chunk[0..<count])
            if collected.count > limit {
                readError = .fileTooLarge
                break
            }
        }
        close(ends[0])
        var status: Int32 = 0
        if case .failure(let e) = valueOrErrno({ waitpid(pid, &status, 0) }) { throw .wait(program: program, e) }
        if let readError { throw .wait(program: program, readError) }
        let exited = (status & 0x7f) == 0
        let code = (status >> 8) & 0xff
        if exited && code == 0 { return collected }
        let text = exited ? "exit status \(code)" : "killed by signal \(status & 0x7f)"
        throw .failed(command: arguments.joined(separator: " "), status: text)
    }

    /// Starts `program` (an absolute path) with `arguments` (argv[0] first) in a new session (setsid),
    /// stdin from /dev/null and stdout and stderr appended to `logPath` (created 0600), without
    /// waiting: how the init leaves the node-save agent running across switch_root. Returns its pid.
    /// `passing` gives descriptors of the parent's the child gets at fixed numbers (dup2, so without close-on-exec).
    public static func startDaemon(
        program: String, arguments: [String], logPath: String,
        passing descriptors: [(FileDescriptor, as: CInt)] = []
    ) throws(Error) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        for (descriptor, number) in descriptors {
            posix_spawn_file_actions_adddup2(&actions, descriptor.rawValue, number)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // POSIX_SPAWN_SETSID (glibc 2.26): the agent leaves the init's session and controlling terminal.
        // POSIX_SPAWN_SETSIGDEF with every signal: no inherited ignored/blocked state from PID 1.
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(
            &attributes, nodeinit_posix_spawn_setsid_flag() | Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        return try spawn(arguments, program: program, fileActions: &actions, attributes: &attributes, searchPath: false)
    }

    private static func spawn(
        _ arguments: [String], program: String, fileActions: UnsafePointer<posix_spawn_file_actions_t>?,
        attributes: UnsafePointer<posix_spawnattr_t>?, searchPath: Bool
    ) throws(Error) -> pid_t {
        var cArguments: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        cArguments.append(nil)
        defer { for pointer in cArguments { free(pointer) } }
        var pid: pid_t = 0
        let code =
            searchPath
            ? posix_spawnp(&pid, program, fileActions, attributes, cArguments, environ)
            : posix_spawn(&pid, program, fileActions, attributes, cArguments, environ)
        if code != 0 { throw .spawn(program: program, Errno(rawValue: code)) }
        return pid
    }
}
