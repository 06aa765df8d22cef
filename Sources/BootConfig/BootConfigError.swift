/// Every error BootConfig throws conforms to this protocol, so a caller (e.g. `nodeinit plan`) can catch
/// "bad boot input" as one category and print its description: each conforming type is a nested `Error` enum
/// of the parser that found the problem, and its description names the parameter (or the file and line) and
/// what is wrong, in lowercase.
public protocol BootConfigError: Error, CustomStringConvertible, Sendable {}

/// A malformed kernel command-line parameter value. Parsers of single parameters throw this, naming the
/// parameter as the user wrote it, the offending value, and what is wrong with it.
public struct ParameterError: BootConfigError, Equatable {
    /// The parameter name as written on the command line (e.g. `ip`, `rd.overlay`, `STATEMNT`).
    public var parameter: String
    /// The value that was rejected (may be empty).
    public var value: String
    /// What is wrong, lowercase, without the parameter name.
    public var problem: String

    public init(parameter: String, value: String, problem: String) {
        self.parameter = parameter
        self.value = value
        self.problem = problem
    }

    public var description: String {
        "\(parameter)=\(quotedForMessage(value)): \(problem)"
    }
}

/// Quotes a value for an error message, cutting very long values so a fuzzed command line cannot flood the console.
func quotedForMessage(_ value: String) -> String {
    let scalars = value.unicodeScalars
    if scalars.count <= 120 { return "\"\(value)\"" }
    var cut = String.UnicodeScalarView()
    cut.append(contentsOf: scalars.prefix(117))
    return "\"\(String(cut))...\""
}
