/// Parses JSON text (RFC 8259) into a `JSONValue`, within limits: the documents nodeinit reads come from files a
/// node wrote or from an agent over the network, so nesting depth and size are bounded and every error names the
/// byte offset and what was expected there.
public struct JSONParser: Sendable {
    public enum Error: Swift.Error, Equatable, CustomStringConvertible {
        case tooLarge(size: Int, limit: Int)
        case syntax(offset: Int, problem: String)
        case tooDeep(offset: Int, limit: Int)

        public var description: String {
            switch self {
            case .tooLarge(let size, let limit): "JSON document of \(size) bytes is over the \(limit)-byte limit"
            case .syntax(let offset, let problem): "invalid JSON at byte \(offset): \(problem)"
            case .tooDeep(let offset, let limit): "JSON nested deeper than \(limit) levels at byte \(offset)"
            }
        }
    }

    public var maximumBytes: Int
    public var maximumDepth: Int

    public init(maximumBytes: Int = 64 << 20, maximumDepth: Int = 256) {
        self.maximumBytes = maximumBytes
        self.maximumDepth = maximumDepth
    }

    public func parse(_ bytes: [UInt8]) throws(Error) -> JSONValue {
        guard bytes.count <= maximumBytes else { throw .tooLarge(size: bytes.count, limit: maximumBytes) }
        var cursor = Cursor(bytes: bytes, maximumDepth: maximumDepth)
        cursor.skipWhitespace()
        let value = try cursor.value(depth: 0)
        cursor.skipWhitespace()
        guard cursor.offset == bytes.count else { throw cursor.failure("unexpected text after the document") }
        return value
    }

    public func parse(_ text: String) throws(Error) -> JSONValue { try parse(Array(text.utf8)) }
}

private struct Cursor {
    let bytes: [UInt8]
    let maximumDepth: Int
    var offset = 0

    init(bytes: [UInt8], maximumDepth: Int) {
        self.bytes = bytes
        self.maximumDepth = maximumDepth
    }

    func failure(_ problem: String) -> JSONParser.Error { .syntax(offset: offset, problem: problem) }

    var current: UInt8? { offset < bytes.count ? bytes[offset] : nil }

    mutating func skipWhitespace() {
        while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { offset += 1 }
    }

    mutating func expect(_ byte: UInt8, _ what: String) throws(JSONParser.Error) {
        guard current == byte else { throw failure("expected \(what)") }
        offset += 1
    }

    mutating func literal(_ word: String, _ value: JSONValue) throws(JSONParser.Error) -> JSONValue {
        let expected = Array(word.utf8)
        guard offset + expected.count <= bytes.count, Array(bytes[offset..<offset + expected.count]) == expected
        else { throw failure("expected \(word)") }
        offset += expected.count
        return value
    }

    mutating func value(depth: Int) throws(JSONParser.Error) -> JSONValue {
        guard depth < maximumDepth else { throw .tooDeep(offset: offset, limit: maximumDepth) }
        guard let byte = current else { throw failure("expected a value, found the end") }
        switch byte {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw failure("expected a value")
        }
    }

    mutating func object(depth: Int) throws(JSONParser.Error) -> JSONValue {
        offset += 1
        var members: [(key: String, value: JSONValue)] = []
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            offset += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else { throw failure("expected a member name in quotes") }
            let key = try string()
            skipWhitespace()
            try expect(UInt8(ascii: ":"), "':' after a member name")
            skipWhitespace()
            members.append((key, try value(depth: depth + 1)))
            skipWhitespace()
            if current == UInt8(ascii: ",") {
                offset += 1
                continue
            }
            try expect(UInt8(ascii: "}"), "',' or '}' in an object")
            return .object(members)
        }
    }

    mutating func array(depth: Int) throws(JSONParser.Error) -> JSONValue {
        offset += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            offset += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try value(depth: depth + 1))
            skipWhitespace()
            if current == UInt8(ascii: ",") {
                offset += 1
                continue
            }
            try expect(UInt8(ascii: "]"), "',' or ']' in an array")
            return .array(elements)
        }
    }

    mutating func number() throws(JSONParser.Error) -> String {
        let start = offset
        func isDigit(_ byte: UInt8?) -> Bool { byte.map { (0x30...0x39).contains($0) } ?? false }
        if current == UInt8(ascii: "-") { offset += 1 }
        guard isDigit(current) else { throw failure("expected a digit") }
        if current == UInt8(ascii: "0") {
            offset += 1
        } else {
            while isDigit(current) { offset += 1 }
        }
        if current == UInt8(ascii: ".") {
            offset += 1
            guard isDigit(current) else { throw failure("expected a digit after '.'") }
            while isDigit(current) { offset += 1 }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            offset += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { offset += 1 }
            guard isDigit(current) else { throw failure("expected a digit in the exponent") }
            while isDigit(current) { offset += 1 }
        }
        return String(decoding: bytes[start..<offset], as: UTF8.self)
    }

    mutating func hexQuad() throws(JSONParser.Error) -> UInt32 {
        guard offset + 4 <= bytes.count else { throw failure("expected four hex digits after \\u") }
        var value: UInt32 = 0
        for byte in bytes[offset..<offset + 4] {
            let digit: UInt8
            switch byte {
            case 0x30...0x39: digit = byte - 0x30
            case 0x41...0x46: digit = byte - 0x41 + 10
            case 0x61...0x66: digit = byte - 0x61 + 10
            default: throw failure("expected four hex digits after \\u")
            }
            value = value << 4 | UInt32(digit)
        }
        offset += 4
        return value
    }

    /// A string literal; the text between escapes must be valid UTF-8, and escaped surrogates must pair up.
    mutating func string() throws(JSONParser.Error) -> String {
        offset += 1
        var scalars = String.UnicodeScalarView()
        var runStart = offset
        func flush(_ end: Int) throws(JSONParser.Error) {
            guard runStart < end else { return }
            guard let text = String(validating: bytes[runStart..<end], as: UTF8.self) else {
                throw .syntax(offset: runStart, problem: "string is not valid UTF-8")
            }
            scalars.append(contentsOf: text.unicodeScalars)
        }
        while true {
            guard let byte = current else { throw failure("unterminated string") }
            switch byte {
            case UInt8(ascii: "\""):
                try flush(offset)
                offset += 1
                return String(scalars)
            case UInt8(ascii: "\\"):
                try flush(offset)
                offset += 1
                guard let escape = current else { throw failure("unterminated escape") }
                offset += 1
                switch escape {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"):
                    var code = try hexQuad()
                    if (0xD800..<0xDC00).contains(code) {
                        guard current == UInt8(ascii: "\\"), offset + 1 < bytes.count, bytes[offset + 1] == UInt8(ascii: "u")
                        else { throw failure("unpaired surrogate in \\u escape") }
                        offset += 2
                        let low = try hexQuad()
                        guard (0xDC00..<0xE000).contains(low) else { throw failure("unpaired surrogate in \\u escape") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw failure("unpaired surrogate in \\u escape") }
                    scalars.append(scalar)
                default: throw failure("unknown escape \\\(Character(Unicode.Scalar(escape)))")
                }
                runStart = offset
            case 0..<0x20: throw failure("control character in a string")
            default: offset += 1
            }
        }
    }
}
