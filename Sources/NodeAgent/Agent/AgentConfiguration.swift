import NodeSys

/// Everything the agent runs with; `nodeinit agent` builds it from its options.
public struct AgentConfiguration: Sendable {
    /// The agent's port when none is given (`nodeinit.agent=` and `nodeinit agent --port` default).
    public static let defaultPort: UInt16 = 7070

    /// nil: every address, IPv4 and IPv6.
    public var listenAddress: IPAddress?
    /// 0 picks an ephemeral port (tests).
    public var port: UInt16
    public var access: AccessPolicy
    /// Shown by /v1/health.
    public var upperDirectory: String
    public var version: String
    /// How long a client may take to send its request head.
    public var requestTimeoutMilliseconds: Int32 = 10_000
    /// How long a client may leave the layer stream unread before the agent gives up on it.
    public var sendTimeoutMilliseconds: Int32 = 120_000
    /// Connections served at once (each has a thread); more are closed on accept.
    public var maxConnections = 32

    public init(listenAddress: IPAddress?, port: UInt16, access: AccessPolicy, upperDirectory: String, version: String)
    {
        self.listenAddress = listenAddress
        self.port = port
        self.access = access
        self.upperDirectory = upperDirectory
        self.version = version
    }
}
