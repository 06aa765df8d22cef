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
/// - The agent chroots into the new root (`--root`) before switch_root. switch_root then moves that very
///   mount to "/" and moves /run, /proc, /dev into it, so the agent's "/" is the booted system's "/" and its
///   `--upper` (/run/nodeinit/overlay/upper) resolves there. The init waits until the chroot happened:
///   a chroot attempted after the move would find an empty /sysroot in the freed initramfs.
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
    /// How long the init waits for the agent to enter the new root (TCG guests are slow to exec).
    var readyTimeoutMilliseconds: UInt64 = 10_000

    public enum Error: Swift.Error, CustomStringConvertible {
        case noOverlay
        case noAllowedClient
        case copy(source: String, target: String, Errno)
        case system(String)
        case exited(pid: Int32, log: String)
        case notReady(pid: Int32, milliseconds: UInt64, root: String)

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
            case .exited(let pid, let log):
                "the agent (pid \(pid)) exited at start; agent.log: \(log.isEmpty ? "empty" : log)"
            case .notReady(let pid, let milliseconds, let root):
                "the agent (pid \(pid)) did not enter the new root within \(milliseconds) ms (its root is \(root))"
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
            newRoot: plan.switchRoot.newRoot, port: port, allow: allowList, tokenFile: plan.agent.tokenPath,
            upper: upperDirectory ?? "", waltUpper: waltUpper)
        for pattern in plan.saveExclude { arguments += ["--exclude", pattern] }
        return arguments
    }

    /// Starts the agent and waits until it is inside the new root. Returns its pid.
    func start(logger: Logger) throws(Error) -> Int32 {
        guard let arguments else { throw .noOverlay }
        guard !allowList.isEmpty else { throw .noAllowedClient }
        try copyBinary()
        if waltUpper { try linkWaltDumpCommand() }
        let pid: Int32
        do {
            pid = try NodeAgent.AgentLaunch.start(binary: binaryCopy, arguments: arguments, logPath: logPath)
        } catch {
            throw .system("\(error)")
        }
        logger.info("node-save agent pid \(pid): \(arguments.joined(separator: " ")) (log \(logPath))")
        try waitUntilInNewRoot(pid: pid)
        return pid
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

    /// Polls /proc/<pid>/root until it names the new root; fails if the agent ends first.
    func waitUntilInNewRoot(pid: Int32) throws(Error) {
        let start = MonotonicInstant.now()
        var root = "?"
        while true {
            if ProcessSignals.hasEnded(pid) {
                throw .exited(pid: pid, log: Self.tail(of: logPath))
            }
            if let directory = try? FileTree.openAnchor(FilePath("/proc/\(pid)")) {
                root = (try? FileTree.readLink(in: directory, "root")) ?? root
                FileTree.closeQuietly(directory)
            }
            if root == plan.switchRoot.newRoot { return }
            let elapsed = MonotonicInstant.now().milliseconds(since: start)
            if elapsed >= readyTimeoutMilliseconds {
                throw .notReady(pid: pid, milliseconds: elapsed, root: root)
            }
            Pause.sleep(milliseconds: 20)
        }
    }

    /// The last lines of the agent's log, one line, for the boot log.
    static func tail(of path: String) -> String {
        let text = (try? FileContents.string(at: path, limit: 1 << 20)) ?? ""
        return text.split(separator: "\n").suffix(3).joined(separator: " | ")
    }
}
