import Logging
import NodeSys

/// What happens after a fatal error: the report, an optional shell, then reboot, power off or halt
/// after a visible countdown. Never returns: PID 1 must not exit.
public struct Emergency: Sendable {
    public var shellOnFailure: Bool
    public var action: Power.Action
    public var countdownSeconds: Int

    public init(shellOnFailure: Bool, action: Power.Action, countdownSeconds: Int) {
        self.shellOnFailure = shellOnFailure
        self.action = action
        self.countdownSeconds = countdownSeconds
    }

    public var nextStep: String {
        let then = "\(action.rawValue) in \(countdownSeconds) s"
        return shellOnFailure ? "a shell on the console, then \(then)" : "\(then) (add rd.shell for a shell)"
    }

    public func run(log: KernelLog, logger: Logger) -> Never {
        if shellOnFailure { DebugShell().run(reason: "boot failed", logger: logger) }
        var remaining = max(0, countdownSeconds)
        while remaining > 0 {
            log.console("nodeinit: \(action.rawValue) in \(remaining) s\r")
            Reaper.reapExited()
            Pause.sleep(milliseconds: 1000)
            remaining -= 1
        }
        log.console("\n")
        logger.critical("\(action.rawValue) now")
        let refusal = Power.perform(action)
        logger.critical("\(action.rawValue) refused: \(refusal.report); halting here")
        while true {
            Reaper.reapExited()
            Pause.sleep(milliseconds: 60_000)
        }
    }
}
