/// Serializes a `JSONValue` (RFC 8259). The output matches what Foundation's `JSONEncoder` writes with
/// `.withoutEscapingSlashes` (and `.sortedKeys`, `.prettyPrinted` when asked): two-space indentation, `"key" : value`
/// and empty containers over an empty line when pretty, quote, backslash and control characters escaped, everything
/// else as UTF-8.
public struct JSONWriter: Sendable {
    public var sortedKeys: Bool
    public var prettyPrinted: Bool

    public init(sortedKeys: Bool = true, prettyPrinted: Bool = false) {
        self.sortedKeys = sortedKeys
        self.prettyPrinted = prettyPrinted
    }

    public func bytes(_ value: JSONValue) -> [UInt8] {
        var output: [UInt8] = []
        write(value, depth: 0, into: &output)
        return output
    }

    public func text(_ value: JSONValue) -> String { String(decoding: bytes(value), as: UTF8.self) }

    private func write(_ value: JSONValue, depth: Int, into output: inout [UInt8]) {
        switch value {
        case .null: output += Array("null".utf8)
        case .bool(let flag): output += Array((flag ? "true" : "false").utf8)
        case .number(let text): output += Array(text.utf8)
        case .string(let text): Self.quote(text, into: &output)
        case .array(let elements):
            guard !elements.isEmpty else { return empty("[", "]", depth, into: &output) }
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                newline(depth + 1, into: &output)
                write(element, depth: depth + 1, into: &output)
            }
            newline(depth, into: &output)
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            guard !members.isEmpty else { return empty("{", "}", depth, into: &output) }
            let ordered = sortedKeys ? members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) } : members
            output.append(UInt8(ascii: "{"))
            for (index, member) in ordered.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                newline(depth + 1, into: &output)
                Self.quote(member.key, into: &output)
                output += prettyPrinted ? Array(" : ".utf8) : [UInt8(ascii: ":")]
                write(member.value, depth: depth + 1, into: &output)
            }
            newline(depth, into: &output)
            output.append(UInt8(ascii: "}"))
        }
    }

    /// `[]`; pretty, Foundation's `[`, an empty line, then `]` at the container's indentation.
    private func empty(_ open: Unicode.Scalar, _ close: Unicode.Scalar, _ depth: Int, into output: inout [UInt8]) {
        output.append(UInt8(ascii: open))
        if prettyPrinted {
            output.append(UInt8(ascii: "\n"))
            newline(depth, into: &output)
        }
        output.append(UInt8(ascii: close))
    }

    private func newline(_ depth: Int, into output: inout [UInt8]) {
        guard prettyPrinted else { return }
        output.append(UInt8(ascii: "\n"))
        output += Array(repeating: UInt8(ascii: " "), count: 2 * depth)
    }

    /// `text` as a JSON string literal.
    public static func quoted(_ text: String) -> String {
        var output: [UInt8] = []
        quote(text, into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    static func quote(_ text: String, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): output += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: output += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: output += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: output += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x08: output += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x0C: output += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case 0..<0x20:
                let digits = Array("0123456789abcdef".utf8)
                output += Array("\\u00".utf8) + [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]]
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}
