/// JSON string quoting (RFC 8259: quote, backslash and control characters) for the few JSON documents the init
/// writes by hand (boot.json, the network lease), so that code linked into PID 1 needs no JSON encoder.
public enum JSONText {
    public static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }

    /// `null` for nil, else the quoted string.
    public static func optional(_ text: String?) -> String { text.map(quoted) ?? "null" }
}
