import NodeSys
import RuntimeLayout
import SystemPackage

/// How the init starts the agent before switch_root (see README "Node save: agent, pull and save").
public enum AgentLaunch {
    public static let logPath = RuntimeLayout.node.agentLog
    /// Where the init copies its own binary so it stays reachable after switch_root.
    public static let binaryCopy = RuntimeLayout.node.agentBinary
    /// The descriptor number the agent finds its new root on (`--root-fd`).
    public static let rootDescriptor: CInt = 3
    /// The descriptor the agent closes once inside that root (`--ready-fd`).
    public static let readyDescriptor: CInt = 4
    /// How long the init waits for that: the agent's C constructor enters the root within milliseconds of the exec.
    public static let readyTimeoutMilliseconds: Int32 = 3000

    /// The `nodeinit agent` arguments (argv[0] first). The agent enters the root it is handed on descriptor 3
    /// (`start(newRoot:)`); `tokenFile` is a path inside that root.
    public static func arguments(
        port: Int, allow: [String], tokenFile: String?, upper: String = RuntimeLayout.node.tmpfsUpperDir,
        waltUpper: Bool = false
    ) -> [String] {
        var arguments = [
            "nodeinit", "agent", "--root-fd", String(rootDescriptor), "--ready-fd", String(readyDescriptor),
            "--port", String(port),
        ]
        for range in allow { arguments += ["--allow", range] }
        if let tokenFile { arguments += ["--token-file", tokenFile] }
        arguments += waltUpper ? ["--walt", "--merged", "/"] : ["--upper", upper, "--merged", "/"]
        return arguments
    }

    public enum Error: Swift.Error, CustomStringConvertible {
        case openRoot(path: String, Errno)
        case readyPipe(Errno)
        case spawn(ChildCommand.Error)

        public var description: String {
            switch self {
            case .openRoot(let path, let e): "cannot open the new root \(path): \(e) (errno \(e.rawValue))"
            case .readyPipe(let e): "cannot make the agent's ready pipe: \(e) (errno \(e.rawValue))"
            case .spawn(let error): "\(error)"
            }
        }
    }

    /// Starts the agent as a daemon (own session, stdio to `logPath`) with a descriptor of `newRoot` as fd 3, and
    /// returns its pid once it is inside that root: its C constructor enters the root right after the exec, before
    /// the Swift runtime (which may wait a second for the kernel's random pool) starts, and closes fd 4, the ready
    /// pipe. The descriptor names that mount wherever switch_root moves it; being inside it before the image's init
    /// runs matters when that init pivots its own root (walt-init), which carries along only the processes already in
    /// it. `ready` is false when the agent did not signal within `readyTimeoutMilliseconds` (it may have died: its log
    /// says why); the boot goes on either way. The agent becomes a child of the image's init once PID 1 execs it.
    public static func start(
        binary: String = binaryCopy, arguments: [String], logPath: String = logPath, newRoot: String
    ) throws(Error) -> (pid: Int32, ready: Bool) {
        let root: FileDescriptor
        do {
            root = try FileDescriptor.open(FilePath(newRoot), .readOnly, options: [.directory, .closeOnExec])
        } catch {
            throw .openRoot(path: newRoot, error as? Errno ?? .ioError)
        }
        defer { try? root.close() }
        var ready: ReadyPipe
        do { ready = try ReadyPipe() } catch { throw .readyPipe(error) }
        let pid: Int32
        do {
            pid = try ChildCommand.startDaemon(
                program: binary, arguments: arguments, logPath: logPath,
                passing: [(root, as: rootDescriptor), (ready.writeEnd, as: readyDescriptor)])
        } catch {
            throw .spawn(error)
        }
        return (pid, ready.waitForClose(timeoutMilliseconds: readyTimeoutMilliseconds))
    }
}
