import NodeSys
import RuntimeLayout

/// How the init starts the agent before switch_root (see README "Node save: agent, pull and save").
public enum AgentLaunch {
    public static let logPath = RuntimeLayout.node.agentLog
    /// Where the init copies its own binary so it stays reachable after switch_root.
    public static let binaryCopy = RuntimeLayout.node.agentBinary

    /// The `nodeinit agent` arguments (argv[0] first) for a node whose new root is mounted at `newRoot`.
    /// `tokenFile` is a path inside the new root.
    public static func arguments(
        newRoot: String, port: Int, allow: [String], tokenFile: String?,
        upper: String = RuntimeLayout.node.tmpfsUpperDir, waltUpper: Bool = false
    ) -> [String] {
        var arguments = ["nodeinit", "agent", "--root", newRoot, "--port", String(port)]
        for range in allow { arguments += ["--allow", range] }
        if let tokenFile { arguments += ["--token-file", tokenFile] }
        arguments += waltUpper ? ["--walt", "--merged", "/"] : ["--upper", upper, "--merged", "/"]
        return arguments
    }

    /// Starts the agent as a daemon (own session, stdio to `logPath`), returning its pid. It becomes
    /// a child of the image's init once PID 1 execs it.
    public static func start(binary: String = binaryCopy, arguments: [String], logPath: String = logPath) throws
        -> Int32
    {
        try ChildCommand.startDaemon(program: binary, arguments: arguments, logPath: logPath)
    }
}
