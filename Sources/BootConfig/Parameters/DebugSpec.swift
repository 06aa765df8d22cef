/// Debugging and failure parameters: xCAT's bare `shell`, `rd.shell`, `rd.break[=<stage>]`, `rd.debug`,
/// `rd.retry=`, `rd.timeout=`, `rd.emergency=`, `panic=`.
/// Parses straight into the plan's `DebugPlan`: the parameters need no further planning.
public enum DebugSpec {

    /// dracut's `rd.break=` stages mapped to nodeinit's pause points (dracut breaks *before* the named hook).
    public static let breakStages: [String: ShellPoint] = [
        "cmdline": .beforeModules, "pre-udev": .beforeModules, "pre-trigger": .beforeModules,
        "initqueue": .beforeNetwork, "pre-mount": .beforeRootMount, "mount": .beforeRootMount,
        "pre-pivot": .afterRootMount, "cleanup": .beforeSwitchRoot,
    ]

    /// The bare word `shell` pauses after the root mount, after the overlay and just before switch_root; on a
    /// statelite boot also after the STATEMNT mount and after the litefile entries, as xCAT's legacy init does.
    /// The statelite pauses are dropped from the plan when statelite is off.
    public static let xcatShellPauses: [ShellPoint] = [
        .afterRootMount, .afterOverlay, .afterStatemnt, .afterStatelite, .beforeSwitchRoot,
    ]

    public static func parse(_ commandLine: KernelCommandLine) throws(ParameterError) -> DebugPlan {
        var pauses: Set<ShellPoint> = []
        if hasXcatShellWord(commandLine) { pauses.formUnion(xcatShellPauses) }
        for parameter in commandLine.all("rd.break") {
            guard let value = parameter.value, !value.isEmpty else {
                pauses.insert(.beforeSwitchRoot)
                continue
            }
            for stage in value.commaList() {
                guard let point = breakStages[stage] else {
                    throw ParameterError(
                        parameter: "rd.break", value: value,
                        problem:
                            "unknown stage \(quotedForMessage(stage)); expected one of \(breakStages.keys.sorted().joined(separator: ", "))"
                    )
                }
                pauses.insert(point)
            }
        }
        let failure = try failurePolicy(commandLine)
        var panic: Int? = nil
        if let parameter = commandLine.lastParameter("panic") {
            let value = parameter.value ?? ""
            var digits = value
            var negative = false
            if value.startsWith("-") { digits = value.droppingScalars(1); negative = true }
            guard let number = digits.parseDecimal(max: 2_147_483_647) else {
                throw ParameterError(parameter: "panic", value: value, problem: "expected a number of seconds")
            }
            panic = negative ? -number : number
        }
        return DebugPlan(
            pauses: pauses.sorted(),
            shellOnFailure: failure.shellOnFailure,
            emergencyAction: failure.emergencyAction,
            retrySeconds: try commandLine.integer("rd.retry", max: 86_400) ?? 180,
            deviceTimeoutSeconds: try commandLine.integer("rd.timeout", max: 86_400) ?? 0,
            panicSeconds: panic,
            verbose: try commandLine.flag("rd.debug") ?? false)
    }

    /// What a fatal error leads to: a shell only when asked for (`rd.shell`, or xCAT's bare `shell`), then
    /// `rd.emergency=`, reboot by default: an unattended cluster node should come back and retry, not sit powered off.
    public struct FailurePolicy: Equatable, Sendable {
        public var shellOnFailure: Bool
        public var emergencyAction: EmergencyAction
    }

    /// The failure policy, strictly: a malformed `rd.shell=` or `rd.emergency=` is an error.
    static func failurePolicy(_ commandLine: KernelCommandLine) throws(ParameterError) -> FailurePolicy {
        FailurePolicy(
            shellOnFailure: try shellOnFailure(commandLine), emergencyAction: try emergencyAction(commandLine))
    }

    /// The failure policy for a command line that may not plan at all: the init needs it for failures before the
    /// plan exists (or when it cannot be built). The same rules as `parse`; a malformed value keeps its default.
    public static func lenientFailurePolicy(_ commandLine: KernelCommandLine) -> FailurePolicy {
        FailurePolicy(
            shellOnFailure: (try? shellOnFailure(commandLine)) ?? hasXcatShellWord(commandLine),
            emergencyAction: (try? emergencyAction(commandLine)) ?? .reboot)
    }

    static func shellOnFailure(_ commandLine: KernelCommandLine) throws(ParameterError) -> Bool {
        try commandLine.flag("rd.shell") ?? hasXcatShellWord(commandLine)
    }

    static func emergencyAction(_ commandLine: KernelCommandLine) throws(ParameterError) -> EmergencyAction {
        guard let parameter = commandLine.lastParameter("rd.emergency") else { return .reboot }
        let value = parameter.value ?? ""
        guard let action = EmergencyAction(rawValue: value) else {
            throw ParameterError(parameter: "rd.emergency", value: value, problem: "expected reboot, poweroff or halt")
        }
        return action
    }

    /// xCAT greps for the word `shell`; a `shell=...` value is not xCAT's flag.
    static func hasXcatShellWord(_ commandLine: KernelCommandLine) -> Bool {
        commandLine.all("shell").contains { $0.value == nil }
    }
}
