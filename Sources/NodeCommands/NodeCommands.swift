import NodeSys
import RuntimeLayout
import SystemPackage

/// A command the node's `/init` carries: its syntax (`CommandSpec`) and what it does with a parsed command line,
/// returning the exit status.
public protocol NodeCommand {
    static var spec: CommandSpec { get }
    static func run(_ arguments: ParsedArguments) throws -> Int32
}

/// An error a node command reports as `nodeinit <command>: <message>` with its exit status.
public struct CommandFailure: Error, CustomStringConvertible {
    public var message: String
    public var status: Int32

    public init(_ message: String, status: Int32 = 1) {
        self.message = message
        self.status = status
    }

    public var description: String { message }
}

/// The node-side command tree: what both executables run for `init`, `agent`, `capture`, `plan`, `network-up`,
/// `shutdown` and `version`. The server-side `nodeinit` adds pull, save, apply and initramfs (swift-argument-parser).
public enum NodeCommands {
    nonisolated(unsafe) public static let all: [any NodeCommand.Type] = [
        VersionCommand.self, PlanCommand.self, CaptureCommand.self, NetworkUpCommand.self, AgentCommand.self,
        ShutdownCommand.self, InitCommand.self,
    ]

    public static var names: [String] { all.map { command in command.spec.name } }

    /// The server-side commands, which only the full `nodeinit` has.
    public static let serverCommands = ["pull", "save", "apply", "initramfs"]

    public static func command(named name: String) -> (any NodeCommand.Type)? {
        all.first { $0.spec.name == name }
    }

    /// The overview `nodeinit-node --help` prints (the full `nodeinit` lists these beside its own).
    public static var overview: String {
        var text = "OVERVIEW: nodeinit on the node: the initramfs /init and the node-side commands.\n\n"
        text += "USAGE: nodeinit <subcommand>\n\nSUBCOMMANDS:\n"
        for command in all {
            let name = command.spec.name
            text += "  \(name)" + String(repeating: " ", count: max(2, 14 - name.count)) + command.spec.abstract + "\n"
        }
        text += "\n  See 'nodeinit <subcommand> --help' for detailed help.\n"
        text += "  pull, save, apply and initramfs are server-side: they are in the full nodeinit, not on the node.\n"
        return text
    }

    /// Runs `arguments` (the subcommand's name first) and exits with its status. The message, help or error, goes
    /// out in one write(2).
    public static func run(_ arguments: [String]) -> Never {
        guard let name = arguments.first else { finish(overview, status: 0) }
        if name == "-h" || name == "--help" || name == "help" { finish(overview, status: 0) }
        if name == "--version" { finish("nodeinit \(NodeinitVersion.text)\n", status: 0) }
        guard let command = command(named: name) else {
            if serverCommands.contains(name) {
                finish(
                    "Error: '\(name)' is a server-side command: run it with the full nodeinit on the server, not with "
                        + "the node's /init\n", status: 64)
            }
            finish("Error: unknown subcommand '\(name)'\n\n" + overview, status: 64)
        }
        do {
            let parsed = try command.spec.parse(Array(arguments.dropFirst()))
            finish(nil, status: try command.run(parsed))
        } catch let error as UsageError {
            if case .helpRequested(let help) = error { finish(help, status: 0) }
            finish("\(error)\n", status: 64)
        } catch let failure as CommandFailure {
            finish("nodeinit \(name): \(failure.message)\n", status: failure.status)
        } catch {
            finish("Error: \(error)\n", status: 1)
        }
    }

    private static func finish(_ message: String?, status: Int32) -> Never {
        if let message {
            let output: FileDescriptor = status == 0 ? .standardOutput : .standardError
            _ = try? output.writeAll(Array(message.utf8))
        }
        ProcessExit.now(status)
    }
}
