/// Header fields in arrival order; lookups ignore the case of names.
public struct HTTPHeaders: Equatable, Sendable {
    public private(set) var fields: [(name: String, value: String)] = []

    public init(_ fields: [(name: String, value: String)] = []) { self.fields = fields }

    public mutating func append(_ name: String, _ value: String) { fields.append((name, value)) }

    /// Every value of `name`.
    public func values(_ name: String) -> [String] {
        let lowered = name.lowercased()
        return fields.filter { $0.name.lowercased() == lowered }.map(\.value)
    }

    /// The first value of `name`.
    public subscript(name: String) -> String? { values(name).first }

    public static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
        lhs.fields.count == rhs.fields.count
            && zip(lhs.fields, rhs.fields).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }
}

/// Byte classes of RFC 9110/9112, shared by the request and response parsers (`package`: the response parser and
/// the chunked decoder live in NodeSaveClient).
package enum HTTPSyntax {
    package static let cr: UInt8 = 13
    package static let lf: UInt8 = 10
    package static let space: UInt8 = 32
    package static let tab: UInt8 = 9

    /// tchar: the characters of a token (method, header name).
    package static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }

    /// field-vchar, space and tab: what a header value may hold (obs-text allowed, controls not).
    package static func isFieldValueCharacter(_ byte: UInt8) -> Bool {
        byte == space || byte == tab || (byte >= 0x21 && byte != 0x7f)
    }

    /// Characters of an origin-form target: pchar, "/" and "?" (RFC 3986); "%" is checked separately.
    package static func isTargetCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            Array("-._~!$&'()*+,;=:@/?%".utf8).contains(byte)
        }
    }

    package static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    package static func text(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }
}

/// Splits a message head into lines and parses header fields: the part requests (here) and responses
/// (NodeSaveClient) share.
package enum HTTPHeadLines {
    package enum Failure: Error, Equatable {
        case bareLineFeed
        case bareCarriageReturn
        case headTooLarge
        case lineTooLong
        case tooManyHeaders
        case obsoleteLineFolding
        case malformedHeader(String)
        case invalidHeaderName(String)
        case invalidHeaderValue(name: String)
    }

    package enum Outcome: Equatable {
        case incomplete
        /// The lines before the empty line, and the byte count of the whole head (empty line included).
        case complete(lines: [ArraySlice<UInt8>], headLength: Int)
    }

    /// Finds the head in `bytes`: lines ending in CRLF, up to the first empty line. Any CR not followed
    /// by LF, or LF not preceded by CR, is an error (request smuggling relies on such leniency).
    package static func split(_ bytes: [UInt8], maxHeadBytes: Int, maxLineBytes: Int) -> Result<Outcome, Failure> {
        var lines: [ArraySlice<UInt8>] = []
        var lineStart = 0
        var index = 0
        while index < bytes.count {
            if index >= maxHeadBytes { return .failure(.headTooLarge) }
            let byte = bytes[index]
            if byte == HTTPSyntax.lf { return .failure(.bareLineFeed) }
            if byte == HTTPSyntax.cr {
                guard index + 1 < bytes.count else { return .success(.incomplete) }
                guard bytes[index + 1] == HTTPSyntax.lf else { return .failure(.bareCarriageReturn) }
                if index - lineStart > maxLineBytes { return .failure(.lineTooLong) }
                if index == lineStart {
                    return .success(.complete(lines: lines, headLength: index + 2))
                }
                lines.append(bytes[lineStart..<index])
                index += 2
                lineStart = index
                continue
            }
            if index - lineStart >= maxLineBytes { return .failure(.lineTooLong) }
            index += 1
        }
        return .success(.incomplete)
    }

    /// Parses `name: value` lines (no folding, no space before the colon, value trimmed of spaces and tabs).
    package static func parseFields(_ lines: [ArraySlice<UInt8>], maxCount: Int) -> Result<HTTPHeaders, Failure> {
        if lines.count > maxCount { return .failure(.tooManyHeaders) }
        var headers = HTTPHeaders()
        for line in lines {
            guard let first = line.first else { continue }
            if first == HTTPSyntax.space || first == HTTPSyntax.tab { return .failure(.obsoleteLineFolding) }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                return .failure(.malformedHeader(HTTPSyntax.text(line.prefix(64))))
            }
            let name = line[line.startIndex..<colon]
            guard !name.isEmpty, name.allSatisfy(HTTPSyntax.isTokenCharacter) else {
                return .failure(.invalidHeaderName(HTTPSyntax.text(name.prefix(64))))
            }
            var value = line[line.index(after: colon)...]
            while let head = value.first, head == HTTPSyntax.space || head == HTTPSyntax.tab { value.removeFirst() }
            while let tail = value.last, tail == HTTPSyntax.space || tail == HTTPSyntax.tab { value.removeLast() }
            guard value.allSatisfy(HTTPSyntax.isFieldValueCharacter) else {
                return .failure(.invalidHeaderValue(name: HTTPSyntax.text(name)))
            }
            headers.append(HTTPSyntax.text(name), HTTPSyntax.text(value))
        }
        return .success(headers)
    }
}
