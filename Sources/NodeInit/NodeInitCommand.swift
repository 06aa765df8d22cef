import ArgumentParser
import RuntimeLayout

/// The `nodeinit` command tree. Each subcommand lives in its own file and stays thin:
/// it parses arguments and calls one library entry point.
///
/// Subcommands register themselves in `subcommands` below (one line each).
struct NodeInitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nodeinit",
        abstract: "Boot layer for diskless NFS-root nodes: the initramfs /init, boot plans and node save.",
        subcommands: [
            VersionCommand.self,
            PlanCommand.self,
            CaptureCommand.self,
            ApplyCommand.self,
            NetworkUpCommand.self,
            AgentCommand.self, PullCommand.self, SaveCommand.self,
            InitCommand.self,
        ]
    )
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the version.")
    func run() { print("nodeinit \(NodeinitVersion.text)") }
}
