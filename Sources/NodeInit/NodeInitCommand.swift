import ArgumentParser
import Glibc
import RuntimeLayout
import SystemPackage

private func exitProcess(_ code: Int32) -> Never { exit(code) }

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
            InitramfsCommand.self,
            NetworkUpCommand.self,
            AgentCommand.self, PullCommand.self, SaveCommand.self,
            ShutdownCommand.self,
            InitCommand.self,
        ]
    )
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the version.")
    func run() { print("nodeinit \(NodeinitVersion.text)") }
}

extension NodeInitCommand {
    /// `main` with the error (or help) written in one write(2). ArgumentParser's own printing goes to the
    /// unbuffered stderr a byte at a time, which a long message (a layer's 4 KB entry name) turns into
    /// thousands of system calls, interleaved with other writers.
    static func runWithWholeMessages(_ arguments: [String]? = nil) -> Never {
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            exitProcess(0)
        } catch {
            let code = exitCode(for: error)
            var message = fullMessage(for: error)
            if !message.isEmpty && !message.hasSuffix("\n") { message += "\n" }
            let output: FileDescriptor = code == .success ? .standardOutput : .standardError
            if !message.isEmpty { _ = try? output.writeAll(Array(message.utf8)) }
            exitProcess(code.rawValue)
        }
    }
}
