import ArgumentParser
import Logging
import NodeAgent
import NodeSys
import OverlayCapture
import RuntimeLayout
import SystemPackage

/// `nodeinit agent`: the node-save agent (HTTP on TCP; see README "Node save: agent, pull and save").
struct AgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Serve the node's overlay changes (health, summary, OCI layer) to allowlisted clients over HTTP.")

    @Option(help: "TCP port.")
    var port: Int = Int(NodeEndpoint.defaultPort)

    @Option(help: "Address to listen on (default: every IPv4 and IPv6 address).")
    var listen: String?

    @Option(
        name: .customLong("allow"), help: "Client address or CIDR block allowed to connect. Repeatable; at least one.")
    var allow: [String] = []

    @Option(
        help:
            "File holding the bearer token requests must carry (root-owned, mode 0600 or stricter). Read after --root.")
    var tokenFile: String?

    @Option(help: "Overlay upper directory.")
    var upper: String = RuntimeLayout.node.tmpfsUpperDir

    @Option(help: "Merged overlay view.")
    var merged: String = "/"

    @Flag(
        help:
            "Serve walt-init's overlay (WalT nodes): its upper is found from /bin/walt-env under --merged at each capture."
    )
    var walt = false

    @Option(
        help:
            "chroot here first: the init passes its new root (e.g. /sysroot) so the agent keeps seeing the booted system after switch_root."
    )
    var root: String?

    @Option(help: "Boot-placed manifest; entries still as the init placed them are left out.")
    var placed: String = BootPlacedManifest.defaultPath

    @Option(name: .customLong("exclude"), help: "Extra exclusion pattern for every capture. Repeatable.")
    var exclusions: [String] = []

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be 1-65535, not \(port)") }
        guard !allow.isEmpty else {
            throw ValidationError("give at least one --allow address or CIDR block (e.g. the boot server's address)")
        }
        for range in allow where IPNetwork(range) == nil {
            throw ValidationError(
                "--allow \(range) is not an address or CIDR block (e.g. 192.0.2.1, 192.0.2.0/24, 2001:db8::/32)")
        }
        if let listen, IPAddress(listen) == nil { throw ValidationError("--listen \(listen) is not an IP address") }
    }

    var captureUpper: CaptureUpper { walt ? .walt(root: FilePath(merged)) : .directory(FilePath(upper)) }

    func run() throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let logger = Logger(label: "nodeinit-agent")
        if let root { try ProcessControls.changeRoot(to: root) }
        let token = try tokenFile.map { path throws(TokenFile.Error) in try TokenFile.load(path) }
        let access = AccessPolicy(allowlist: allow.compactMap { IPNetwork($0) }, token: token)
        let configuration = AgentConfiguration(
            listenAddress: listen.flatMap { IPAddress($0) }, port: UInt16(port), access: access,
            upperDirectory: captureUpper.description, version: NodeinitVersion.text)
        let producer = OverlayCaptureProducer(
            upper: captureUpper, mergedDirectory: FilePath(merged), bootPlacedManifest: FilePath(placed),
            exclusions: exclusions)
        let server = try NodeAgentServer(configuration: configuration, producer: producer, logger: logger)
        server.run()
    }
}
