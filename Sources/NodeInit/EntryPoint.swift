/// Entry point. As PID 1 (or when invoked as `/init`) the init sequence runs; otherwise the command tree.
/// The PID-1 branch is filled in by the boot work (it must mount /proc and re-read argv from
/// /proc/self/cmdline, since a static Swift binary sees an empty CommandLine.arguments there).
@main
enum EntryPoint {
    static func main() {
        NodeInitCommand.main()
    }
}
