/// How the client caches the read-only NFS root (`nodeinit.nfs.rootcache=`).
public enum NFSRootCache: String, Equatable, Sendable {
    /// The image does not change under a booted node (the default): `nocto` and a 30-day attribute cache, unless the
    /// root's own options choose (`cto`, `ac*=`, `noac`). A file changed on the server is seen after a remount or a
    /// reboot.
    case image
    /// The kernel's defaults: close-to-open revalidation and a 3-60 s attribute cache, so a change on the server
    /// shows on the node within a minute.
    case live
}

/// The NFS root's readahead (`nodeinit.nfs.readahead=`).
public enum NFSReadahead: Equatable, Sendable {
    /// Leave the kernel's (128 KiB for NFS since Linux 5.4).
    case kernel
    case kibibytes(Int)
}

/// nodeinit's own `nodeinit.*` parameters (see README "Boot parameters").
public struct NodeinitSpec: Equatable, Sendable {
    public var image: String?
    public var litefile: TableLocation?
    public var litetree: TableLocation?
    public var statelite: TableLocation?
    /// nil = agent off.
    public var agentPort: Int?
    public var agentAllow: [IPNetwork]?
    public var agentToken: String?
    public var saveExclude: [String]
    public var modules: [String]
    /// `nodeinit.nfs.versions=`: versions tried when the root's options request none.
    public var nfsVersions: [String]?
    /// `nodeinit.nfs.rootcache=image|live`: how the NFS root's client caches (nil: `image`).
    public var nfsRootCache: NFSRootCache? = nil
    /// `nodeinit.nfs.readahead=<KiB>|kernel`: the NFS root's readahead (nil: the cache mode's default,
    /// `RootPlan.readaheadKiB`).
    public var nfsReadahead: NFSReadahead? = nil
    /// `nodeinit.groups=`: xCAT groups of this node (for statelite table rows keyed by group).
    public var groups: [String]
    /// `nodeinit.attr.<table>.<column>=<value>`: node attributes for `$table.column` in litetree/statemnt.
    public var attributes: [String: String]
    /// `nodeinit.localdisk=<devspec>`: the local file system for xCAT `localdisk` litefile entries.
    public var localDisk: DeviceSpec?

    /// The agent's default TCP port.
    public static let defaultAgentPort = 7070
    /// The largest `nodeinit.nfs.readahead=` (1 GiB): more is a typo, not a choice.
    public static let maximumReadaheadKiB = 1 << 20

    public static func parse(_ commandLine: KernelCommandLine) throws(ParameterError) -> NodeinitSpec {
        var image: String? = nil
        if let parameter = commandLine.lastParameter("nodeinit.image") {
            let value = parameter.value ?? ""
            guard !value.isEmpty, !value.containsWhitespaceOrControl, !value.contains("/") else {
                throw ParameterError(
                    parameter: "nodeinit.image", value: value, problem: "expected an image name without / or spaces")
            }
            image = value
        }
        var port: Int? = defaultAgentPort
        if let parameter = commandLine.lastParameter("nodeinit.agent") {
            let value = parameter.value ?? ""
            if value == "off" || value == "0" || value == "no" {
                port = nil
            } else if let number = value.parseDecimal(max: 65535), number > 0 {
                port = number
            } else {
                throw ParameterError(
                    parameter: "nodeinit.agent", value: value, problem: "expected a TCP port (1-65535) or off")
            }
        }
        var allow: [IPNetwork]? = nil
        if let parameter = commandLine.lastParameter("nodeinit.agent.allow") {
            let value = parameter.value ?? ""
            var list: [IPNetwork] = []
            for item in value.commaList() {
                guard let network = IPNetwork(item) else {
                    throw ParameterError(
                        parameter: "nodeinit.agent.allow", value: value,
                        problem: "bad address or CIDR \(quotedForMessage(item))")
                }
                list.append(network)
            }
            guard !list.isEmpty else {
                throw ParameterError(
                    parameter: "nodeinit.agent.allow", value: value,
                    problem: "expected addresses or CIDRs, comma-separated")
            }
            allow = list
        }
        var token: String? = nil
        if let parameter = commandLine.lastParameter("nodeinit.agent.token") {
            let value = parameter.value ?? ""
            try checkAbsolutePath(value, parameter: "nodeinit.agent.token")
            token = value
        }
        var exclude: [String] = []
        for value in commandLine.values("nodeinit.save.exclude") {
            for item in value.commaList() {
                try checkAbsolutePath(item, parameter: "nodeinit.save.exclude")
                exclude.append(item)
            }
        }
        var modules: [String] = []
        for value in commandLine.values("nodeinit.modules") {
            modules.append(contentsOf: try moduleNames(value, parameter: "nodeinit.modules"))
        }
        var versions: [String]? = nil
        if let parameter = commandLine.lastParameter("nodeinit.nfs.versions") {
            let value = parameter.value ?? ""
            var list: [String] = []
            for item in value.commaList() {
                guard ["3", "4.0", "4.1", "4.2"].contains(item) else {
                    throw ParameterError(
                        parameter: "nodeinit.nfs.versions", value: value,
                        problem: "unknown NFS version \(quotedForMessage(item)) (3, 4.0, 4.1, 4.2)")
                }
                if !list.contains(item) { list.append(item) }
            }
            guard !list.isEmpty else {
                throw ParameterError(
                    parameter: "nodeinit.nfs.versions", value: value, problem: "expected a comma-separated version list"
                )
            }
            versions = list
        }
        var rootCache: NFSRootCache? = nil
        if let parameter = commandLine.lastParameter("nodeinit.nfs.rootcache") {
            let value = parameter.value ?? ""
            guard let cache = NFSRootCache(rawValue: value) else {
                throw ParameterError(
                    parameter: "nodeinit.nfs.rootcache", value: value,
                    problem: "expected image (the image does not change under a booted node: nocto, long attribute "
                        + "cache) or live (the kernel's close-to-open caching)")
            }
            rootCache = cache
        }
        var readahead: NFSReadahead? = nil
        if let parameter = commandLine.lastParameter("nodeinit.nfs.readahead") {
            let value = parameter.value ?? ""
            if value == "kernel" {
                readahead = .kernel
            } else if let kibibytes = Int(value), (0...maximumReadaheadKiB).contains(kibibytes) {
                readahead = .kibibytes(kibibytes)
            } else {
                throw ParameterError(
                    parameter: "nodeinit.nfs.readahead", value: value,
                    problem: "expected the NFS root's readahead in KiB (0-\(maximumReadaheadKiB)) or kernel (leave the "
                        + "kernel's, 128 KiB)")
            }
        }
        var groups: [String] = []
        for value in commandLine.values("nodeinit.groups") {
            for item in value.commaList() {
                guard isValidHostName(item, allowNumeric: true) else {
                    throw ParameterError(
                        parameter: "nodeinit.groups", value: value, problem: "bad group name \(quotedForMessage(item))")
                }
                groups.append(item)
            }
        }
        var attributes: [String: String] = [:]
        for parameter in commandLine.parameters where parameter.key.hasPrefix("nodeinit.attr.") {
            let name = parameter.key.droppingScalars(14)
            let parts = name.splitKeepingEmpty(on: ".")
            guard parts.count == 2,
                parts.allSatisfy({ !$0.isEmpty && $0.unicodeScalars.allSatisfy { $0.isASCIIAlphanumeric || $0 == "_" } }
                )
            else {
                throw ParameterError(
                    parameter: parameter.key, value: parameter.value ?? "",
                    problem: "expected nodeinit.attr.<table>.<column>=<value>")
            }
            let value = parameter.value ?? ""
            guard !value.containsWhitespaceOrControl else {
                throw ParameterError(parameter: parameter.key, value: value, problem: "value has whitespace")
            }
            attributes[name] = value
        }
        var localDisk: DeviceSpec? = nil
        if let parameter = commandLine.lastParameter("nodeinit.localdisk") {
            localDisk = try DeviceSpec(parsing: parameter.value ?? "", parameter: "nodeinit.localdisk")
        }
        return NodeinitSpec(
            image: image,
            litefile: try tableLocation(commandLine, "nodeinit.litefile"),
            litetree: try tableLocation(commandLine, "nodeinit.litetree"),
            statelite: try tableLocation(commandLine, "nodeinit.statelite"),
            agentPort: port, agentAllow: allow, agentToken: token,
            saveExclude: Array(Set(exclude)).sorted(), modules: modules, nfsVersions: versions,
            nfsRootCache: rootCache, nfsReadahead: readahead, groups: groups, attributes: attributes,
            localDisk: localDisk)
    }

    static func checkAbsolutePath(_ value: String, parameter: String) throws(ParameterError) {
        guard value.startsWith("/"), !value.containsWhitespaceOrControl, value.unicodeScalars.count <= 4096 else {
            throw ParameterError(parameter: parameter, value: value, problem: "expected an absolute path")
        }
    }

    /// `/path/in/image` or `nfs://server/path`.
    static func tableLocation(_ commandLine: KernelCommandLine, _ key: String) throws(ParameterError) -> TableLocation?
    {
        guard let parameter = commandLine.lastParameter(key) else { return nil }
        let value = parameter.value ?? ""
        if value.hasPrefix("nfs://") {
            let rest = value.droppingScalars(6)
            guard let slash = rest.unicodeScalars.firstIndex(of: "/") else {
                throw ParameterError(parameter: key, value: value, problem: "expected nfs://server/path")
            }
            let host = String(rest.unicodeScalars[rest.unicodeScalars.startIndex..<slash])
            let path = String(rest.unicodeScalars[slash...])
            let (server, _) = try parseServer(host, parameter: key, whole: value)
            try checkAbsolutePath(path, parameter: key)
            return .nfs(server: host.startsWith("[") ? "[\(server)]" : server, path: path)
        }
        guard value.startsWith("/") else {
            throw ParameterError(
                parameter: key, value: value, problem: "expected an absolute path in the image or nfs://server/path")
        }
        try checkAbsolutePath(value, parameter: key)
        return .image(path: value)
    }
}

/// A comma-separated list of module names, normalized `-` to `_`.
func moduleNames(_ value: String, parameter: String) throws(ParameterError) -> [String] {
    var names: [String] = []
    for item in value.commaList() {
        guard isModuleName(item) else {
            throw ParameterError(
                parameter: parameter, value: value, problem: "bad module name \(quotedForMessage(item))")
        }
        names.append(normalizeModuleName(item))
    }
    return names
}

func isModuleName(_ text: String) -> Bool {
    let scalars = text.unicodeScalars
    return !scalars.isEmpty && scalars.count <= 55
        && scalars.allSatisfy { $0.isASCIIAlphanumeric || $0 == "_" || $0 == "-" }
}

func normalizeModuleName(_ text: String) -> String {
    var out = String.UnicodeScalarView()
    for scalar in text.unicodeScalars { out.append(scalar == "-" ? "_" : scalar) }
    return String(out)
}
