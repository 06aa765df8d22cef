/// xCAT statelite parameters: `STATEMNT=` (empty is legal: no persistent store), `NODE=`, `MNTOPTS=`, `XCAT=`.
public struct StateliteSpec: Equatable, Sendable {
    /// True when `STATEMNT=` appears at all (xCAT requires the key even when empty).
    public var statemntPresent: Bool
    /// The raw `STATEMNT=` value when non-empty (may hold `$` variables, substituted by the planner).
    public var statemnt: String?
    public var node: String?
    /// `MNTOPTS=` split on `,` (surrounding single quotes, which old SLES templates wrote, removed).
    public var mountOptions: [String]
    /// `XCAT=host:port`.
    public var xcatServer: String?
    /// `XCAT=` split: the server (brackets removed), whether it is an address, the port.
    public var xcatd: Endpoint?
    public struct Endpoint: Equatable, Sendable {
        public var server: String
        public var isAddress: Bool
        public var port: Int
    }
    /// `nodeinit.xcatd_ca=/path/in/image`: the CA that must have signed xcatd's certificate.
    public var xcatdCA: String?
    /// `nodeinit.xcatd_name=NAME`: the name xcatd's certificate must carry (else XCAT='s host when it is a name).
    public var xcatdName: String?

    /// xCAT's default options for the STATEMNT mount (rh dracut_047/105).
    public static let defaultStatemntOptions = ["nolock", "rsize=32768", "tcp", "timeo=14"]

    public static func parse(_ commandLine: KernelCommandLine) throws(ParameterError) -> StateliteSpec {
        let statemntParameter = commandLine.lastParameter("STATEMNT")
        var statemnt = statemntParameter?.value ?? nil
        if statemnt?.isEmpty == true { statemnt = nil }
        if let value = statemnt, !value.contains("$") {
            _ = try parseStatemnt(value, parameter: "STATEMNT")
        }
        var node: String? = nil
        if let parameter = commandLine.lastParameter("NODE") {
            let value = parameter.value ?? ""
            guard isValidHostName(value, allowNumeric: true) else {
                throw ParameterError(
                    parameter: "NODE", value: value, problem: "expected a node name (letters, digits, -, _, .)")
            }
            node = value
        }
        var options: [String] = []
        if var value = commandLine.last("MNTOPTS") {
            if value.startsWith("'") && value.endsWith("'") && value.unicodeScalars.count >= 2 {
                value = value.droppingScalars(1).droppingLastScalars(1)
            }
            options = value.commaList()
            // Validated here so the error names MNTOPTS rather than the mount.
            _ = try NFSMountOptions(options, parameter: "MNTOPTS", whole: value, readOnly: false)
        }
        var xcat: String? = nil
        var xcatd: Endpoint? = nil
        if let parameter = commandLine.lastParameter("XCAT") {
            let value = parameter.value ?? ""
            let pieces = value.splitColonsOutsideBrackets()
            guard pieces.count == 2, let port = pieces[1].parseDecimal(max: 65535), port > 0 else {
                throw ParameterError(parameter: "XCAT", value: value, problem: "expected host:port")
            }
            let (server, isAddress) = try parseServer(pieces[0], parameter: "XCAT", whole: value)
            xcat = value
            xcatd = Endpoint(server: server, isAddress: isAddress, port: port)
        }
        var ca: String? = nil
        if let parameter = commandLine.lastParameter("nodeinit.xcatd_ca") {
            let value = parameter.value ?? ""
            try NodeinitSpec.checkAbsolutePath(value, parameter: "nodeinit.xcatd_ca")
            ca = value
        }
        var name: String? = nil
        if let parameter = commandLine.lastParameter("nodeinit.xcatd_name") {
            let value = parameter.value ?? ""
            guard isValidHostName(value, allowNumeric: true) else {
                throw ParameterError(
                    parameter: "nodeinit.xcatd_name", value: value,
                    problem: "expected the host name xcatd's certificate carries")
            }
            name = value
        }
        return StateliteSpec(
            statemntPresent: statemntParameter != nil, statemnt: statemnt, node: node, mountOptions: options,
            xcatServer: xcat, xcatd: xcatd, xcatdCA: ca, xcatdName: name)
    }

    /// `SRV:/DIR` into (server, isAddress, dir). The server ends at the first `:` outside brackets.
    public static func parseStatemnt(
        _ value: String, parameter: String
    ) throws(ParameterError) -> (server: String, isAddress: Bool, path: String) {
        let pieces = value.splitColonsOutsideBrackets()
        guard pieces.count >= 2 else {
            throw ParameterError(parameter: parameter, value: value, problem: "expected server:/directory")
        }
        let (server, isAddress) = try parseServer(pieces[0], parameter: parameter, whole: value)
        var path = pieces.dropFirst().joined(separator: ":")
        try RootSpec.checkPath(path, parameter: parameter, whole: value)
        while path.endsWith("/") && path.unicodeScalars.count > 1 { path = path.droppingLastScalars(1) }
        return (server, isAddress, path)
    }
}
