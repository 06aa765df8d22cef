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
        for parameter in commandLine.all("shell") {
            // xCAT greps for the word; a `shell=...` value is not xCAT's flag.
            if parameter.value == nil { pauses.formUnion(xcatShellPauses) }
        }
        for parameter in commandLine.all("rd.break") {
            guard let value = parameter.value, !value.isEmpty else {
                pauses.insert(.beforeSwitchRoot)
                continue
            }
            for stage in value.commaList() {
                guard let point = breakStages[stage] else {
                    throw ParameterError(
                        parameter: "rd.break", value: value,
                        problem: "unknown stage \(quotedForMessage(stage)); expected one of \(breakStages.keys.sorted().joined(separator: ", "))")
                }
                pauses.insert(point)
            }
        }
        // After a fatal error: a shell only when asked for (`rd.shell` or xCAT's `shell`), else the emergency
        // action, reboot by default: an unattended cluster node should come back and retry, not sit powered off.
        var emergency = EmergencyAction.reboot
        if let parameter = commandLine.lastParameter("rd.emergency") {
            let value = parameter.value ?? ""
            guard let action = EmergencyAction(rawValue: value) else {
                throw ParameterError(parameter: "rd.emergency", value: value, problem: "expected reboot, poweroff or halt")
            }
            emergency = action
        }
        let xcatShellWord = commandLine.all("shell").contains { $0.value == nil }
        let shell = try commandLine.flag("rd.shell") ?? xcatShellWord
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
            shellOnFailure: shell,
            emergencyAction: emergency,
            retrySeconds: try commandLine.integer("rd.retry", max: 86_400) ?? 180,
            deviceTimeoutSeconds: try commandLine.integer("rd.timeout", max: 86_400) ?? 0,
            panicSeconds: panic,
            verbose: try commandLine.flag("rd.debug") ?? false)
    }
}
