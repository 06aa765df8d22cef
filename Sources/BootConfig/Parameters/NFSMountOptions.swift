/// NFS mount option handling shared by the root, STATEMNT and litetree mounts: the requested version is taken out
/// of the user's options and one exact mount(2) option string is built per version to try.
struct NFSMountOptions: Equatable, Sendable {
    /// The version the options request (`vers=`, `nfsvers=`, `v3`, `v4.1`, `minorversion=`), nil when none.
    var requestedVersion: String?
    /// `lock` (true) / `nolock` (false) as given, nil when not given.
    var lock: Bool?
    /// Every other option, in the user's order.
    var rest: [String]
    /// Things dropped, for the plan's warnings.
    var warnings: [String]

    /// Versions tried when none is requested: NFSv4.2, then 4.1, then v3 (dracut defaults to v3 only; nodeinit
    /// prefers v4, which needs no mountd, rpcbind or locking helpers, and falls back).
    static let defaultVersions = ["4.2", "4.1", "3"]
    /// Versions tried for `nfs4:` or `vers=4` without a minor version.
    static let v4Versions = ["4.2", "4.1", "4.0"]

    /// Parses a list of options. `parameter`/`whole` name the source for errors.
    init(_ options: [String], parameter: String, whole: String, readOnly: Bool) throws(ParameterError) {
        var version: String? = nil
        var minor: String? = nil
        var lock: Bool? = nil
        var rest: [String] = []
        var warnings: [String] = []
        for raw in options {
            let option = raw.trimmingASCIIWhitespace()
            if option.isEmpty { continue }
            if option.containsWhitespaceOrControl {
                throw ParameterError(
                    parameter: parameter, value: whole,
                    problem: "mount option \(quotedForMessage(option)) has whitespace")
            }
            let (name, value) = option.splitOnce(on: "=") ?? (option, "")
            switch name {
            case "vers", "nfsvers":
                version = try Self.checkVersion(value, parameter: parameter, whole: whole)
            case "v2", "v3", "v4", "v4.0", "v4.1", "v4.2":
                version = try Self.checkVersion(name.droppingScalars(1), parameter: parameter, whole: whole)
            case "minorversion":
                guard value == "0" || value == "1" || value == "2" else {
                    throw ParameterError(parameter: parameter, value: whole, problem: "minorversion must be 0, 1 or 2")
                }
                minor = value
            case "lock": lock = true
            case "nolock": lock = false
            case "ro", "rw":
                // The matching one is implied; the contrary one cannot be honoured.
                if (name == "rw") == readOnly {
                    warnings.append(
                        "\(parameter): mount option \(name) ignored (this mount is always \(readOnly ? "read-only" : "read-write"))"
                    )
                }
            case "defaults":
                warnings.append("\(parameter): mount option defaults ignored")
            case "addr":
                warnings.append(
                    "\(parameter): mount option addr= ignored (the init sets it after resolving the server)")
            case "clientaddr":
                // The NFSv4 callback address, kept as given (xCAT's nfs_root_options.t keeps an IPv6 one); without
                // it the kernel picks the address it reaches the server from.
                guard !value.hasPrefix("["), IPAddress(value) != nil else {
                    throw ParameterError(
                        parameter: parameter, value: whole,
                        problem:
                            "clientaddr= needs an IPv4 or IPv6 address without brackets, not \(quotedForMessage(value))"
                    )
                }
                rest.append(option)
            default:
                rest.append(option)
            }
        }
        if let minor {
            if version == nil || version == "4" {
                version = "4.\(minor)"
            } else if version?.hasPrefix("4") != true {
                throw ParameterError(parameter: parameter, value: whole, problem: "minorversion= needs NFS version 4")
            }
        }
        self.requestedVersion = version
        self.lock = lock
        self.rest = rest
        self.warnings = warnings
    }

    private static func checkVersion(_ value: String, parameter: String, whole: String) throws(ParameterError) -> String
    {
        switch value {
        case "3", "4", "4.0", "4.1", "4.2": return value
        case "2":
            throw ParameterError(parameter: parameter, value: whole, problem: "NFS version 2 is not supported")
        default:
            throw ParameterError(
                parameter: parameter, value: whole, problem: "unknown NFS version \(quotedForMessage(value))")
        }
    }

    /// The versions to try: the requested one (v4 without minor expands to 4.2, 4.1, 4.0), else `fallback`.
    func versions(fallback: [String]) -> [String] {
        guard let requestedVersion else { return fallback }
        return requestedVersion == "4" ? Self.v4Versions : [requestedVersion]
    }

    /// One attempt per version. v3 always gets `nolock` (NLM needs rpc.statd, whose state cannot follow
    /// switch_root); v4 keeps the user's lock choice. `ro` is added for read-only mounts.
    func attempts(versions: [String], readOnly: Bool, warnings: inout [String], parameter: String) -> [NFSMountAttempt]
    {
        if lock == true && versions.contains("3") {
            warnings.append("\(parameter): lock ignored for NFSv3, using nolock")
        }
        return versions.map { version in
            var parts = ["vers=\(version)"]
            if readOnly { parts.append("ro") }
            if version == "3" {
                parts.append("nolock")
            } else if let lock {
                parts.append(lock ? "lock" : "nolock")
            }
            parts.append(contentsOf: rest)
            return NFSMountAttempt(
                version: version, fsType: version == "3" ? "nfs" : "nfs4",
                options: parts.joined(separator: ","), readOnly: readOnly)
        }
    }
}
