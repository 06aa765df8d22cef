import ArgumentParser
import BootConfig
import FoundationEssentials
import SystemPackage

/// `nodeinit plan`: prints the boot plan the init would follow for a command line and xCAT tables.
/// Exit status 2 with a message naming the parameter (or file and line) for malformed input.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Print the boot plan for a kernel command line and xCAT tables (default: /proc/cmdline).")

    @Option(help: "Kernel command line to plan for (default: the contents of /proc/cmdline).")
    var cmdline: String?

    @Option(help: "xCAT litefile table in tabdump CSV format.")
    var litefile: String?

    @Option(help: "xCAT litetree table in tabdump CSV format.")
    var litetree: String?

    @Option(help: "xCAT statelite table in tabdump CSV format.")
    var statelite: String?

    @Option(help: "osimage name (overrides nodeinit.image=).")
    var image: String?

    @Option(help: "Host name to assume for %s and $node when the command line gives none.")
    var hostname: String?

    @Flag(help: "Print the plan as JSON (sorted keys).")
    var json = false

    func run() throws {
        do {
            let commandLine: KernelCommandLine
            if let cmdline {
                commandLine = KernelCommandLine(cmdline)
            } else {
                commandLine = KernelCommandLine(bytes: try readFile("/proc/cmdline"))
            }
            func table(_ path: String?) throws -> BootInputs.Table? {
                guard let path else { return nil }
                return BootInputs.Table(name: path, text: String(decoding: try readFile(path), as: UTF8.self))
            }
            let inputs = BootInputs(
                commandLine: commandLine, litefile: try table(litefile), litetree: try table(litetree),
                statelite: try table(statelite), image: image, hostName: hostname)
            let plan = try BootPlanner.plan(inputs)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(plan), as: UTF8.self))
            } else {
                print(plan.renderText(), terminator: "")
            }
        } catch let error as any BootConfigError {
            writeError("nodeinit plan: \(error.description)\n")
            throw ExitCode(2)
        } catch let error as PlanFileError {
            writeError("nodeinit plan: \(error.description)\n")
            throw ExitCode(2)
        }
    }

    private func writeError(_ text: String) {
        _ = try? FileDescriptor.standardError.writeAll(Array(text.utf8))
    }
}

struct PlanFileError: Error, CustomStringConvertible {
    var path: String
    var errno: Errno
    var description: String { "cannot read \(path): \(errno)" }
}

/// Reads a whole file (also /proc files, whose size is reported as 0).
private func readFile(_ path: String) throws -> [UInt8] {
    let fd: FileDescriptor
    do {
        fd = try FileDescriptor.open(FilePath(path), .readOnly)
    } catch let error as Errno {
        throw PlanFileError(path: path, errno: error)
    }
    defer { try? fd.close() }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let count: Int
        do {
            count = try buffer.withUnsafeMutableBytes { try fd.read(into: $0, retryOnInterrupt: true) }
        } catch let error as Errno {
            throw PlanFileError(path: path, errno: error)
        }
        if count == 0 { break }
        bytes.append(contentsOf: buffer[0..<count])
        if bytes.count > 64 << 20 { break }
    }
    return bytes
}
