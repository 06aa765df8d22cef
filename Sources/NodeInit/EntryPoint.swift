import NodeBoot
import NodeSys

/// Entry point. As PID 1 (or when started as `/init`) the boot sequence runs; otherwise the
/// command tree.
///
/// As PID 1, /proc is mounted before anything else (the Swift runtime and libmount both read it),
/// and argv is re-read from /proc/self/cmdline, since a static Swift binary sees an empty
/// CommandLine.arguments there.
@main
enum EntryPoint {
    static func main() {
        let startedAsInit = EarlyProcess.isPID1 || (CommandLine.arguments.first ?? "").hasSuffix("/init")
        if startedAsInit {
            EarlyProcess.mountProc()
            let arguments = EarlyProcess.arguments()
            // `/init <subcommand> ...` outside PID 1 still reaches the command tree (debugging in the shell).
            if EarlyProcess.isPID1 || arguments.count <= 1 {
                InitCommand.boot()
            }
            NodeInitCommand.runWithWholeMessages(Array(arguments.dropFirst()))
        }
        NodeInitCommand.runWithWholeMessages()
    }
}
