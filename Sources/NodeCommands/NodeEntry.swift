import NodeBoot
import NodeSys
import RuntimeLayout

/// What both executables do first. As PID 1 (or when started as `/init`) the boot sequence runs; otherwise the
/// command tree (`otherwise`: the node-side commands for the node's binary, or those plus the server-side ones).
///
/// As PID 1, /proc is mounted before anything else (the Swift runtime and libmount both read it). argv comes from
/// `EarlyProcess.arguments()` (what glibc handed the C constructors), never CommandLine.arguments: a static Swift
/// binary reads those from /proc/self/cmdline, which PID 1 lacks at first and the agent loses when its /proc moves
/// into the new root at switch_root.
///
/// Called as `shutdown` by PID 1 it is the end of the run: systemd-shutdown execs /run/initramfs/shutdown (a second
/// name of this binary) after switching root back into /run/initramfs.
///
/// Called as `walt-dump-diff-layer` (the link the init leaves in /run/nodeinit on WalT boots) it is
/// `nodeinit capture --walt`: what `walt node save` runs over ssh, which passes a single word as the command.
public enum NodeEntry {
    public static func main(otherwise runCommand: ([String]) -> Never) -> Never {
        let processArguments = EarlyProcess.arguments()
        let name = (processArguments.first ?? "").split(separator: "/").last.map(String.init) ?? ""
        if name == WaltLayout.dumpCommandName {
            NodeCommands.run(["capture", "--walt"] + processArguments.dropFirst())
        }
        let startedAsInit = EarlyProcess.isPID1 || (processArguments.first ?? "").hasSuffix("/init")
        if startedAsInit {
            let fixedHashSeed = EarlyProcess.tookFixedHashSeed()
            EarlyProcess.mountProc()
            // Without the constructor's argv, /proc/self/cmdline now that /proc is there.
            let arguments = processArguments.isEmpty ? EarlyProcess.arguments() : processArguments
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
        runCommand(Array(processArguments.dropFirst()))
    }
}
