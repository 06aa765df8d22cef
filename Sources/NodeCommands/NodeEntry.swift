import NodeBoot
import NodeSys
import RuntimeLayout

/// What both executables do first. As PID 1 (or when started as `/init`) the boot sequence runs; otherwise the
/// command tree (`otherwise`: the node-side commands for the node's binary, or those plus the server-side ones).
///
/// As PID 1, /proc is mounted before anything else (the Swift runtime and libmount both read it),
/// and argv is re-read from /proc/self/cmdline, since a static Swift binary sees an empty
/// CommandLine.arguments there.
///
/// Called as `shutdown` by PID 1 it is the end of the run: systemd-shutdown execs /run/initramfs/shutdown (a second
/// name of this binary) after switching root back into /run/initramfs.
///
/// Called as `walt-dump-diff-layer` (the link the init leaves in /run/nodeinit on WalT boots) it is
/// `nodeinit capture --walt`: what `walt node save` runs over ssh, which passes a single word as the command.
public enum NodeEntry {
    public static func main(otherwise runCommand: ([String]) -> Never) -> Never {
        let name = (CommandLine.arguments.first ?? "").split(separator: "/").last.map(String.init) ?? ""
        if name == WaltLayout.dumpCommandName {
            NodeCommands.run(["capture", "--walt"] + CommandLine.arguments.dropFirst())
        }
        let startedAsInit = EarlyProcess.isPID1 || (CommandLine.arguments.first ?? "").hasSuffix("/init")
        if startedAsInit {
            let fixedHashSeed = EarlyProcess.tookFixedHashSeed()
            EarlyProcess.mountProc()
            let arguments = EarlyProcess.arguments()
            // systemd-shutdown's hand-over: /run/initramfs/shutdown VERB, exec'd as PID 1.
            if EarlyProcess.isPID1, (arguments.first ?? "").split(separator: "/").last == "shutdown" {
                ShutdownCommand.runAsPID1(arguments)
            }
            // `/init <subcommand> ...` outside PID 1 still reaches the command tree (debugging in the shell).
            if EarlyProcess.isPID1 || arguments.count <= 1 {
                InitCommand.boot(fixedHashSeed: fixedHashSeed)
            }
            runCommand(Array(arguments.dropFirst()))
        }
        runCommand(Array(CommandLine.arguments.dropFirst()))
    }
}
