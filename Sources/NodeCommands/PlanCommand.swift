import BootConfig
import JSONCoding
import NodeSys
import SystemPackage

/// `nodeinit plan`: prints the boot plan the init would follow for a command line and xCAT tables.
/// Exit status 2 with a message naming the parameter (or file and line) for malformed input.
public enum PlanCommand: NodeCommand {
    public static let spec = CommandSpec(
        name: "plan",
        abstract: "Print the boot plan for a kernel command line and xCAT tables (default: /proc/cmdline).",
        options: [
            .value(
                "--cmdline", "cmdline", help: "Kernel command line to plan for (default: the contents of /proc/cmdline)."),
            .value("--litefile", "litefile", help: "xCAT litefile table in tabdump CSV format."),
            .value("--litetree", "litetree", help: "xCAT litetree table in tabdump CSV format."),
            .value("--statelite", "statelite", help: "xCAT statelite table in tabdump CSV format."),
            .value("--image", "image", help: "osimage name (overrides nodeinit.image=)."),
            .value("--hostname", "hostname", help: "Host name to assume for %s and $node when the command line gives none."),
            .flag("--json", help: "Print the plan as JSON (sorted keys)."),
        ])

    public static func run(_ arguments: ParsedArguments) throws -> Int32 {
        do {
            let commandLine: KernelCommandLine
            if let text = arguments.value("--cmdline") {
                commandLine = KernelCommandLine(text)
            } else {
                commandLine = KernelCommandLine(bytes: try FileContents.bytes(at: "/proc/cmdline"))
            }
            func table(_ name: String) throws -> BootInputs.Table? {
                guard let path = arguments.value(name) else { return nil }
                return BootInputs.Table(name: path, text: String(decoding: try FileContents.bytes(at: path), as: UTF8.self))
            }
            let inputs = BootInputs(
                commandLine: commandLine, litefile: try table("--litefile"), litetree: try table("--litetree"),
                statelite: try table("--statelite"), image: arguments.value("--image"),
                hostName: arguments.value("--hostname"))
            let plan = try BootPlanner.plan(inputs)
            if arguments.flag("--json") {
                print(String(decoding: try JSONCoding.encode(plan, pretty: true), as: UTF8.self))
            } else {
                print(plan.renderText(), terminator: "")
            }
            return 0
        } catch let error as any BootConfigError {
            throw CommandFailure(error.description, status: 2)
        } catch let error as FileContents.Error {
            throw CommandFailure("\(error)", status: 2)
        }
    }
}
