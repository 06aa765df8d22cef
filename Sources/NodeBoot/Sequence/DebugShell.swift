import Logging
import NodeSys

/// busybox sh on the console. Boot waits for it and continues when it exits.
public struct DebugShell: Sendable {
    public var shellPath = "/bin/sh"
    /// busybox's cttyhack makes the console's real tty the shell's controlling terminal, so job
    /// control and Ctrl-C work; without it the shell still runs, only without job control.
    public var cttyhackPath = "/bin/cttyhack"
    public var environment = [
        "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/", "TERM=linux", "PS1=nodeinit \\w# ",
    ]

    public init() {}

    /// Runs the shell; `reason` says why on the console first. Never throws: a missing shell is
    /// logged and the boot goes on.
    public func run(reason: String, logger: Logger) {
        logger.notice("starting a shell (\(reason)); exit it to continue")
        let spawn =
            FileSystem.exists(cttyhackPath)
            ? ProcessSpawn(path: cttyhackPath, arguments: [shellPath], environment: environment)
            : ProcessSpawn(path: shellPath, arguments: [], environment: environment)
        do {
            let termination = try spawn.run()
            logger.notice("shell ended (\(termination)); continuing")
        } catch {
            logger.error("no debug shell: \(error)")
        }
    }
}
