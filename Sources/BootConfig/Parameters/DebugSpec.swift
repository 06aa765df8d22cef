/// Debugging and failure parameters: xCAT's bare `shell`, `rd.shell`, `rd.break[=<stage>]`, `rd.debug`,
/// `rd.retry=`, `rd.timeout=`, `rd.emergency=`, `panic=`.
public struct DebugSpec: Equatable, Sendable {
    public var pauses: [ShellPoint]
    public var shellOnFailure: Bool
    public var emergencyAction: EmergencyAction
    public var retrySeconds: Int
    public var deviceTimeoutSeconds: Int
    public var panicSeconds: Int?
    public var verbose: Bool

    /// dracut's `rd.break=` stages mapped to nodeinit's pause points (dracut breaks *before* the named hook).
    public static let breakStages: [String: ShellPoint] = [
        "cmdline": .beforeModules, "pre-udev": .beforeModules, "pre-trigger": .beforeModules,
        "initqueue": .beforeNetwork, "pre-mount": .beforeRootMount, "mount": .beforeRootMount,
        "pre-pivot": .afterRootMount, "cleanup": .beforeSwitchRoot,
    ]

    /// xCAT's `shell` pauses, after its SLES legacy init (four pauses).
    public static let xcatShellPauses: [ShellPoint] = [.afterRootMount, .afterStatemnt, .afterStatelite, .beforeSwitchRoot]

    public static func parse(_ commandLine: KernelCommandLine) throws(ParameterError) -> DebugSpec {
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
        var emergency = EmergencyAction.poweroff
        var emergencyGiven = false
        if let parameter = commandLine.lastParameter("rd.emergency") {
            let value = parameter.value ?? ""
            guard let action = EmergencyAction(rawValue: value) else {
                throw ParameterError(parameter: "rd.emergency", value: value, problem: "expected reboot, poweroff or halt")
            }
            emergency = action
            emergencyGiven = true
        }
        let shell = try commandLine.flag("rd.shell") ?? !emergencyGiven
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
        return DebugSpec(
            pauses: pauses.sorted(),
            shellOnFailure: shell,
            emergencyAction: emergency,
            retrySeconds: try commandLine.integer("rd.retry", max: 86_400) ?? 180,
            deviceTimeoutSeconds: try commandLine.integer("rd.timeout", max: 86_400) ?? 0,
            panicSeconds: panic,
            verbose: try commandLine.flag("rd.debug") ?? false)
    }
}
