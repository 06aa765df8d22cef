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
    /// Versions tried for the read-only image root when nothing requests one: NFSv3 first. An NFSv4 client sends an
    /// OPEN (and later a CLOSE) to the server for every open(2) of a file unless the server granted a delegation
    /// (nfs-ganesha grants none by default), however long the attribute cache; NFSv3 has no open state, so with
    /// `imageCacheOptions` a file costs one LOOKUP, one ACCESS and its READs for the whole boot. Measured on a
    /// Debian 12 boot to multi-user (`make bench-boot`): 1,859 requests over v3 against 3,805 over v4.2 with the
    /// same cache options. v4.2 and v4.1 follow for servers without v3 (no rpcbind or mountd).
    static let rootVersions = ["3", "4.2", "4.1"]
    /// Cache times (seconds) of `imageCacheOptions`: 30 days. The kernel keeps them as jiffies in 32 bits
    /// (`acregmin * HZ`), so a value past 2^32 / HZ wraps (WalT's 157680000, five years, wraps to about 35 days
    /// at HZ=250); 30 days fits up to HZ=1000.
    static let imageCacheSeconds = 2_592_000
    /// The root's cache options for an image that does not change under a booted node (WalT mounts its images with
    /// `nocto` and long `ac*` times): no GETATTR at each open (close-to-open), attributes, directory entries and
    /// access rights trusted for `imageCacheSeconds`.
    static let imageCacheOptions = ["nocto", "actimeo=\(imageCacheSeconds)"]
    /// The user's options that take the place of `nocto`.
    static let closeToOpenOptions: Set<String> = ["cto", "nocto"]
    /// The user's options that take the place of `actimeo=`: any of them means the user chose the attribute cache.
    static let attributeCacheOptions: Set<String> = [
        "ac", "noac", "actimeo", "acregmin", "acregmax", "acdirmin", "acdirmax",
    ]

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

    /// These options with the image cache defaults (`imageCacheOptions`) before the user's own; a default whose
    /// subject the user's options already decide (`cto`/`nocto`; `ac`, `noac`, `actimeo=`, `acregmin=`...) is left
    /// out, so the user's choice is the only one on the mount.
    func addingImageCacheDefaults() -> NFSMountOptions {
        let names = Set(rest.map { $0.splitOnce(on: "=")?.head ?? $0 })
        var defaults: [String] = []
        if names.isDisjoint(with: Self.closeToOpenOptions) { defaults.append(Self.imageCacheOptions[0]) }
        if names.isDisjoint(with: Self.attributeCacheOptions) { defaults.append(Self.imageCacheOptions[1]) }
        var copy = self
        copy.rest = defaults + rest
        return copy
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
