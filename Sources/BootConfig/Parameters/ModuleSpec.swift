/// Kernel module parameters: `module.param=value` (the kernel treats `-` and `_` alike in these names),
/// `rd.driver.pre=`, `rd.driver.post=`, `rd.driver.blacklist=`, `modprobe.blacklist=`.
public struct ModuleSpec: Equatable, Sendable {
    public var preload: [String]
    public var postload: [String]
    public var blacklist: [String]
    public var parameters: [ModuleParameter]

    /// Dotted prefixes that are not kernel modules: other programs' namespaces.
    static let foreignNamespaces: Set<String> = [
        "rd", "nodeinit", "walt", "systemd", "udev", "plymouth", "vconsole", "locale", "net", "syslog", "live",
        "dracut",
        "modprobe", "root", "boot", "rootflags", "biosdevname",
    ]

    public static func parse(_ commandLine: KernelCommandLine) throws(ParameterError) -> ModuleSpec {
        var preload: [String] = []
        var postload: [String] = []
        var blacklist: Set<String> = []
        for value in commandLine.values("rd.driver.pre") {
            preload += try moduleNames(value, parameter: "rd.driver.pre")
        }
        for value in commandLine.values("rd.driver.post") {
            postload += try moduleNames(value, parameter: "rd.driver.post")
        }
        for key in ["rd.driver.blacklist", "modprobe.blacklist"] {
            for value in commandLine.values(key) { blacklist.formUnion(try moduleNames(value, parameter: key)) }
        }
        var parameters: [ModuleParameter] = []
        for parameter in commandLine.parameters {
            guard let (module, name) = parameter.key.splitOnce(on: "."),
                !foreignNamespaces.contains(module), isModuleName(module), !name.isEmpty,
                name.unicodeScalars.allSatisfy({ $0.isASCIIAlphanumeric || $0 == "_" || $0 == "-" || $0 == "." })
            else { continue }
            parameters.append(
                ModuleParameter(
                    module: normalizeModuleName(module), name: normalizeModuleName(name), value: parameter.value ?? ""))
        }
        return ModuleSpec(preload: preload, postload: postload, blacklist: blacklist.sorted(), parameters: parameters)
    }
}
