import Logging
import NodeAgent
import NodeSys
import OverlayCapture
import RuntimeLayout
import SystemPackage

/// `nodeinit agent`: the node-save agent (HTTP on TCP; see README "Node save: agent, pull and save").
public enum AgentCommand: NodeCommand {
    public static let spec = CommandSpec(
        name: "agent",
        abstract: "Serve the node's overlay changes (health, summary, OCI layer) to allowlisted clients over HTTP.",
        options: [
            .value("--port", "port", help: "TCP port.", default: String(AgentConfiguration.defaultPort)),
            .value("--listen", "listen", help: "Address to listen on (default: every IPv4 and IPv6 address)."),
            .value(
                "--allow", "allow", repeatable: true,
                help: "Client address or CIDR block allowed to connect. Repeatable; at least one."),
            .value(
                "--token-file", "token-file",
                help: "File holding the bearer token requests must carry (root-owned, mode 0600 or stricter). "
                    + "Read after the root change."),
            .value("--upper", "upper", help: "Overlay upper directory.", default: RuntimeLayout.node.tmpfsUpperDir),
            .value("--merged", "merged", help: "Merged overlay view.", default: "/"),
            .flag(
                "--walt",
                help: "Serve walt-init's overlay (WalT nodes): its upper is found from /bin/walt-env under --merged "
                    + "at each capture."),
            .value("--root", "root", help: "chroot here first."),
            .value(
                "--root-fd", "fd",
                help: "chroot into the directory open on this descriptor first: the init hands over its new root "
                    + "(/sysroot) so the agent sees the booted system after switch_root, wherever the mount moved. "
                    + "Done before the Swift runtime starts (CNodeShim process.c)."),
            .value(
                "--ready-fd", "fd",
                help:
                    "Descriptor closed once inside the --root-fd root (by the C constructor): the init waits for that."),
            .value(
                "--placed", "placed", help: "Boot-placed manifest; entries still as the init placed them are left out.",
                default: BootPlacedManifest.defaultPath),
            .value(
                "--exclude", "exclude", repeatable: true, help: "Extra exclusion pattern for every capture. Repeatable."
            ),
        ])

    public static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let port = try arguments.integer("--port", default: Int(AgentConfiguration.defaultPort))
        guard (1...65535).contains(port) else { throw arguments.invalid("--port must be 1-65535, not \(port)") }
        let allow = arguments.values("--allow")
        guard !allow.isEmpty else {
            throw arguments.invalid("give at least one --allow address or CIDR block (e.g. the boot server's address)")
        }
        var allowList: [IPNetwork] = []
        for range in allow {
            guard let network = IPNetwork(range) else {
                throw arguments.invalid(
                    "--allow \(range) is not an address or CIDR block (e.g. 192.0.2.1, 192.0.2.0/24, 2001:db8::/32)")
            }
            allowList.append(network)
        }
        var listenAddress: IPAddress?
        if let listen = arguments.value("--listen") {
            guard let address = IPAddress(listen) else {
                throw arguments.invalid("--listen \(listen) is not an IP address")
            }
            listenAddress = address
        }
        let rootDescriptor = try descriptor("--root-fd", in: arguments)
        // Only checked: the C constructor closed --ready-fd already, and closing it again here could close a
        // descriptor the runtime has opened under that number since.
        _ = try descriptor("--ready-fd", in: arguments)
        let merged = arguments.value("--merged") ?? "/"
        let captureUpper: CaptureUpper =
            arguments.flag("--walt")
            ? .walt(root: FilePath(merged))
            : .directory(FilePath(arguments.value("--upper") ?? RuntimeLayout.node.tmpfsUpperDir))

        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let logger = Logger(label: "nodeinit-agent")
        if let rootDescriptor {
            // The C constructor has normally entered it already, before the runtime started.
            switch EarlyProcess.handedRoot {
            case .entered: break
            case .failed(let errno):
                throw ProcessControls.RootChangeError.chroot(path: "descriptor \(rootDescriptor)", errno)
            case .notAsked: try ProcessControls.changeRoot(toDirectory: FileDescriptor(rawValue: rootDescriptor))
            }
        }
        if let root = arguments.value("--root") { try ProcessControls.changeRoot(to: root) }
        let token = try arguments.value("--token-file").map { path throws(TokenFile.Error) in try TokenFile.load(path) }
        let access = AccessPolicy(allowlist: allowList, token: token)
        let configuration = AgentConfiguration(
            listenAddress: listenAddress, port: UInt16(port), access: access,
            upperDirectory: captureUpper.description, version: NodeinitVersion.text)
        let producer = OverlayCaptureProducer(
            upper: captureUpper, mergedDirectory: FilePath(merged),
            bootPlacedManifest: FilePath(arguments.value("--placed") ?? BootPlacedManifest.defaultPath),
            exclusions: arguments.values("--exclude"))
        let server = try NodeAgentServer(configuration: configuration, producer: producer, logger: logger)
        server.run()
        return 0
    }

    /// A `--root-fd`/`--ready-fd` value: a descriptor number.
    static func descriptor(_ name: String, in arguments: ParsedArguments) throws(UsageError) -> CInt? {
        guard let text = arguments.value(name) else { return nil }
        guard let number = CInt(text), number >= 0 else {
            throw arguments.invalid("\(name) takes a descriptor number, not '\(text)'")
        }
        return number
    }
}
