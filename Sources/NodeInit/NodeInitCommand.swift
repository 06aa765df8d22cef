import ArgumentParser
import NodeCommands
import NodeSys
import RuntimeLayout
import SystemPackage

/// The server-side `nodeinit` command tree. Each subcommand lives in its own file and stays thin:
/// it parses arguments and calls one library entry point. The node-side commands (`NodeCommands`: init, agent,
/// capture, plan, network-up, shutdown, version) are dispatched before this parser sees them (`EntryPoint`).
///
/// Subcommands register themselves in `subcommands` below (one line each).
struct NodeInitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nodeinit",
        abstract: "Boot layer for diskless NFS-root nodes: the initramfs /init, boot plans and node save.",
        discussion: "Node-side commands (also in the node's /init, nodeinit-node): "
            + NodeCommands.names.joined(separator: ", ") + ". See 'nodeinit <command> --help'.",
        version: "nodeinit \(NodeinitVersion.text)",
        subcommands: [
            ApplyCommand.self,
            InitramfsCommand.self,
            PullCommand.self, SaveCommand.self,
        ]
    )
}

extension NodeInitCommand {
    /// `main` with the error (or help) written in one write(2). ArgumentParser's own printing goes to the
    /// unbuffered stderr a byte at a time, which a long message (a layer's 4 KB entry name) turns into
    /// thousands of system calls, interleaved with other writers.
    static func runWithWholeMessages(_ arguments: [String]? = nil) -> Never {
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            ProcessExit.now(0)
        } catch {
            let code = exitCode(for: error)
            var message = fullMessage(for: error)
            if !message.isEmpty && !message.hasSuffix("\n") { message += "\n" }
            let output: FileDescriptor = code == .success ? .standardOutput : .standardError
            if !message.isEmpty { _ = try? output.writeAll(Array(message.utf8)) }
            ProcessExit.now(code.rawValue)
        }
    }
}
