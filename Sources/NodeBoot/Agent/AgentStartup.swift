import BootConfig
import Logging
import NodeAgent
import NodeSys
import RuntimeLayout
import SystemPackage

/// The `.startAgent` step: starts `nodeinit agent` before switch_root so it keeps serving the node's
/// overlay changes in the booted system, as a child the image's init inherits from PID 1.
///
/// Why each piece:
/// - The init's own binary is copied to /run/nodeinit (mode 0700): /run moves into the new root, so the
///   agent's executable stays reachable (and /proc/<pid>/exe meaningful) after the initramfs is freed.
/// - The agent gets a descriptor of the new root (fd 3, `--root-fd`) and chroots through it (fchdir + chroot(".")).
///   switch_root moves that very mount to "/" and moves /run, /proc, /dev into it, so the agent's "/" is the booted
///   system's "/" and its `--upper` (/run/nodeinit/overlay/upper) resolves there, whether its chroot comes before or
///   after the move. So the init does not wait for it: the agent's start, which blocks until the kernel's random
///   pool is ready (the Swift runtime seeds its hashing), overlaps the rest of the boot.
/// - It runs in its own session with stdio on /run/nodeinit/agent.log, detached from the console.
///
/// Starting the agent is never fatal: a node that cannot be saved still boots, with a warning in boot.log.
public struct AgentStartup {
    var plan: BootPlan
    var port: Int
    /// The resolved address of the NFS root server (the default and only allowlisted client).
    var bootServerAddress: IPAddress?
    /// The overlay's upper as mounted (`BootContext.overlay`), which both the init and, after switch_root, the agent
    /// see; nil without an overlay. The plan's path only guesses it: an image file puts it inside the loop mount and
    /// a fallback on a tmpfs.
    var upperDirectory: String?
    var binarySource = "/proc/self/exe"
    var binaryCopy = RuntimeLayout.node.agentBinary
    var logPath = RuntimeLayout.node.agentLog
    var waltDumpCommand = RuntimeLayout.node.waltDumpCommand

    public enum Error: Swift.Error, CustomStringConvertible {
        case noOverlay
        case noAllowedClient
        case copy(source: String, target: String, Errno)
        case system(String)

        public var description: String {
            switch self {
            case .noOverlay:
                "the root has no overlay, so there is no upper layer to save"
            case .noAllowedClient:
                "no client to allow: nodeinit.agent.allow= is empty and the NFS server address is unknown"
            case .copy(let source, let target, let errno):
                "cannot copy \(source) to \(target): \(errno.report)"
            case .system(let message):
                message
            }
        }
    }

    /// walt-init builds the overlay after switch_root: the agent finds its upper itself (`nodeinit agent --walt`),
    /// and `walt node save` gets its single-word command (`RuntimeLayout.waltDumpCommand`).
    var waltUpper: Bool {
        if case .waltInit = plan.overlay { return true }
        return false
    }

    /// The boot server when `allowBootServer`, then every `nodeinit.agent.allow=` entry.
    var allowList: [String] {
        var list: [String] = []
        if plan.agent.allowBootServer, let bootServerAddress { list.append(bootServerAddress.description) }
        // WalT's server is usually the NFS server too: one entry for it.
        let bootServerEntry = bootServerAddress.map { IPNetwork(address: $0, prefixLength: $0.isIPv6 ? 128 : 32) }
        for network in plan.agent.allow where !(plan.agent.allowBootServer && network == bootServerEntry) {
            list.append(network.description)
        }
        return list
    }

    var arguments: [String]? {
        guard waltUpper || upperDirectory != nil else { return nil }
        var arguments = NodeAgent.AgentLaunch.arguments(
            port: port, allow: allowList, tokenFile: plan.agent.tokenPath,
            upper: upperDirectory ?? "", waltUpper: waltUpper)
        for pattern in plan.saveExclude { arguments += ["--exclude", pattern] }
        return arguments
    }

    /// Starts the agent, handing it the new root, and returns its pid without waiting for it.
    func start(logger: Logger) throws(Error) -> Int32 {
        guard let arguments else { throw .noOverlay }
        guard !allowList.isEmpty else { throw .noAllowedClient }
        try copyBinary()
        if waltUpper { try linkWaltDumpCommand() }
        let started: (pid: Int32, ready: Bool)
        do {
            started = try NodeAgent.AgentLaunch.start(
                binary: binaryCopy, arguments: arguments, logPath: logPath, newRoot: plan.switchRoot.newRoot)
        } catch {
            throw .system("\(error)")
        }
        logger.info("node-save agent pid \(started.pid): \(arguments.joined(separator: " ")) (log \(logPath))")
        if !started.ready {
            let limit = NodeAgent.AgentLaunch.readyTimeoutMilliseconds
            logger.warning(
                "node-save agent pid \(started.pid) did not signal it entered \(plan.switchRoot.newRoot) within \(limit) ms; see \(logPath)"
            )
        }
        return started.pid
    }

    /// Streams the running binary to `binaryCopy` (`InitBinaryCopy`).
    func copyBinary() throws(Error) {
        do {
            try InitBinaryCopy(source: binarySource, target: binaryCopy).write()
        } catch {
            switch error {
            case .copy(let source, let target, let errno): throw .copy(source: source, target: target, errno)
            case .rename: throw .system("\(error)")
            }
        }
    }

    /// `walt-dump-diff-layer` -> `nodeinit` (relative, so it resolves the same before and after switch_root).
    func linkWaltDumpCommand() throws(Error) {
        PathOperations.removeFile(waltDumpCommand)
        do {
            let target = binaryCopy.split(separator: "/").last.map(String.init) ?? "nodeinit"
            try FileSystem.symlink(target: target, at: waltDumpCommand)
        } catch {
            throw .system("cannot link \(waltDumpCommand) for walt node save: \(error)")
        }
    }
}
