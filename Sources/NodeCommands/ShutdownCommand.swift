import NodeBoot
import NodeSys
import SystemPackage

/// `nodeinit shutdown VERB`: the end of the run (`NodeShutdown`). systemd images need nothing: systemd-shutdown
/// runs the init's /run/initramfs/shutdown (this binary, as PID 1, `NodeEntry`). Images without systemd run
/// `/run/nodeinit/nodeinit shutdown poweroff` (or reboot, halt) as their last shutdown step (docs/shutdown.md).
public enum ShutdownCommand: NodeCommand {
    public static let spec = CommandSpec(
        name: "shutdown",
        abstract: "Stop the agent, unmount the image, leave writable devices clean, then power off or reboot.",
        discussion: "Run as the last step of a non-systemd image's shutdown; systemd runs it by itself.",
        options: [
            .flag(
                "--unmount-only",
                help: "Stop, unmount and clean, then return: the image's init powers off (busybox ::shutdown:).")
        ],
        positionalUsage: "[<verb>]   (reboot, poweroff, halt or kexec: systemd's verbs)",
        // systemd-shutdown's own arguments after the verb are accepted and ignored.
        maximumPositionals: Int.max)

    public static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let unmountOnly = arguments.flag("--unmount-only")
        let verb = arguments.positionals.first
        if unmountOnly && verb != nil { throw arguments.invalid("--unmount-only takes no verb") }
        if !unmountOnly && verb == nil { throw arguments.invalid("a verb is needed: reboot, poweroff, halt or kexec") }
        if let verb, Power.Action(rawValue: verb) == nil {
            throw arguments.invalid("unknown shutdown verb \(verb): expected reboot, poweroff, halt or kexec")
        }
        let action = verb.flatMap { Power.Action(rawValue: $0) } ?? .poweroff
        let shutdown: NodeShutdown = NodeShutdown.live(action: action, report: report)
        if unmountOnly {
            shutdown.settle()
            report("done; the image's init ends the run")
            return 0
        }
        let refusal = shutdown.run()
        throw CommandFailure("the kernel refused \(action.rawValue): \(refusal.report)")
    }

    static func report(_ line: String) {
        _ = try? FileDescriptor.standardError.writeAll(Array("nodeinit shutdown: \(line)\n".utf8))
    }

    /// As PID 1 in /run/initramfs (systemd's hand-over): no argument parser, no exit (PID 1 must not end). An
    /// unknown verb reboots: a node that comes back can be managed, a halted one needs hands.
    static func runAsPID1(_ arguments: [String]) -> Never {
        let named = NodeShutdown.action(fromArguments: arguments)
        if named == nil { report("no shutdown verb in \(arguments.dropFirst().joined(separator: " ")): rebooting") }
        let action = named ?? .reboot
        let refusal: Errno = NodeShutdown.live(action: action, report: report)
        report("the kernel refused \(action.rawValue) (\(refusal.report)); halting here")
        while true { Pause.sleep(milliseconds: 60_000) }
    }
}
