import TextSearch

/// xCAT's variable substitution in litetree directories and statemnt values (`SvrUtils::subVars`), done on the
/// node from the attributes it knows:
///
/// - `$node` is the node name;
/// - `$table.column` (e.g. `$noderes.nfsserver`, `$nodetype.os`) and `$site.key` come from `attributes`; a missing
///   one becomes the literal `UNDEFINED`, as in xCAT, with a warning;
/// - several variables written back to back in one path component (`$a$b`) are joined with `.`;
/// - `//` collapses to `/`.
///
/// xCAT's `#CMD=...#` runs a command on the xCAT server; the node cannot do that, so it is an error.
public struct XcatVariables: Sendable {
    /// Node attributes by `table.column`.
    public var attributes: [String: String]
    /// The node name, nil when not known yet.
    public var nodeName: String?

    public init(attributes: [String: String], nodeName: String?) {
        self.attributes = attributes
        self.nodeName = nodeName
    }

    public enum Failure: Equatable, Sendable {
        case nodeNameUnknown
        case commandSubstitution
        case badVariable(String)
    }

    /// Substitutes variables in `text`. Returns the result and warnings, or a failure.
    public func substitute(_ text: String) -> Result<(String, [String]), FailureBox> {
        if text.containsBytes("#CMD=") { return .failure(FailureBox(.commandSubstitution)) }
        let scalars = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        var warnings: [String] = []
        var index = 0
        var previousWasVariable = false
        while index < scalars.count {
            let scalar = scalars[index]
            guard scalar == "$" else {
                out.append(scalar)
                previousWasVariable = false
                index += 1
                continue
            }
            // Name: word characters, optionally one `.` and more word characters.
            var end = index + 1
            var dots = 0
            while end < scalars.count {
                let c = scalars[end]
                if c.isASCIIAlphanumeric || c == "_" {
                    end += 1
                } else if c == "." && dots == 0 && end + 1 < scalars.count
                    && (scalars[end + 1].isASCIIAlphanumeric || scalars[end + 1] == "_") && end > index + 1
                {
                    dots += 1
                    end += 1
                } else {
                    break
                }
            }
            let name = String(String.UnicodeScalarView(scalars[(index + 1)..<end]))
            if name.isEmpty { return .failure(FailureBox(.badVariable("$"))) }
            let value: String
            if name == "node" {
                guard let nodeName else { return .failure(FailureBox(.nodeNameUnknown)) }
                value = nodeName
            } else if let known = attributes[name] {
                value = known
            } else {
                value = "UNDEFINED"
                warnings.append(
                    "$\(name) is not known on the node: substituted UNDEFINED (give nodeinit.attr.\(name)=...)")
            }
            if previousWasVariable { out.append(".") }
            out.append(contentsOf: value.unicodeScalars)
            previousWasVariable = true
            index = end
        }
        // Collapse `//` (but not the `://` of a URL, which xCAT values do not use anyway).
        var collapsed = String.UnicodeScalarView()
        for scalar in out {
            if scalar == "/" && collapsed.last == "/" { continue }
            collapsed.append(scalar)
        }
        return .success((String(collapsed), warnings))
    }

    /// A `Failure` wrapped so it can be a `Result` failure.
    public struct FailureBox: Error, Equatable, Sendable {
        public var failure: Failure
        init(_ failure: Failure) { self.failure = failure }

        public var problem: String {
            switch failure {
            case .nodeNameUnknown: return "$node needs the node name: give NODE= (or a host name in ip=)"
            case .commandSubstitution:
                return "#CMD=...# runs a command on the xCAT server and cannot be done on the node"
            case .badVariable(let text): return "bad variable \(text)"
            }
        }
    }
}
