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

    /// The `nodeinit agent` arguments (argv[0] first). The agent enters the root it is handed on descriptor 3
    /// (`start(newRoot:)`); `tokenFile` is a path inside that root.
    public static func arguments(
        port: Int, allow: [String], tokenFile: String?, upper: String = RuntimeLayout.node.tmpfsUpperDir,
        waltUpper: Bool = false
    ) -> [String] {
        var arguments = ["nodeinit", "agent", "--root-fd", String(rootDescriptor), "--port", String(port)]
        for range in allow { arguments += ["--allow", range] }
        if let tokenFile { arguments += ["--token-file", tokenFile] }
        arguments += waltUpper ? ["--walt", "--merged", "/"] : ["--upper", upper, "--merged", "/"]
        return arguments
    }

    public enum Error: Swift.Error, CustomStringConvertible {
        case openRoot(path: String, Errno)
        case spawn(ChildCommand.Error)

        public var description: String {
            switch self {
            case .openRoot(let path, let e): "cannot open the new root \(path): \(e) (errno \(e.rawValue))"
            case .spawn(let error): "\(error)"
            }
        }
    }

    /// Starts the agent as a daemon (own session, stdio to `logPath`) with a descriptor of `newRoot` as fd 3,
    /// returning its pid without waiting for it: the descriptor names that mount wherever switch_root moves it, and
    /// the agent's start (its Swift runtime waits for the kernel's random pool) overlaps the rest of the boot. It
    /// becomes a child of the image's init once PID 1 execs it.
    public static func start(
        binary: String = binaryCopy, arguments: [String], logPath: String = logPath, newRoot: String
    ) throws(Error) -> Int32 {
        let root: FileDescriptor
        do {
            root = try FileDescriptor.open(FilePath(newRoot), .readOnly, options: [.directory, .closeOnExec])
        } catch {
            throw .openRoot(path: newRoot, error as? Errno ?? .ioError)
        }
        defer { try? root.close() }
        do {
            return try ChildCommand.startDaemon(
                program: binary, arguments: arguments, logPath: logPath, passing: [(root, as: rootDescriptor)])
        } catch {
            throw .spawn(error)
        }
    }
}
