// Splitting helpers that work on Unicode scalars, not Characters: a separator followed by a combining mark
// must still split (grapheme clustering would glue them), and arbitrary input must never trap.

extension String {
    /// Splits on every occurrence of `separator`, keeping empty pieces (`"a::b"` gives `["a", "", "b"]`).
    func splitKeepingEmpty(on separator: Unicode.Scalar) -> [String] {
        var pieces: [String] = []
        var current = String.UnicodeScalarView()
        for scalar in unicodeScalars {
            if scalar == separator {
                pieces.append(String(current))
                current = String.UnicodeScalarView()
            } else {
                current.append(scalar)
            }
        }
        pieces.append(String(current))
        return pieces
    }

    /// Splits at the first `separator`; nil when there is none.
    func splitOnce(on separator: Unicode.Scalar) -> (head: String, tail: String)? {
        guard let index = unicodeScalars.firstIndex(of: separator) else { return nil }
        let head = String(unicodeScalars[unicodeScalars.startIndex..<index])
        let tail = String(unicodeScalars[unicodeScalars.index(after: index)...])
        return (head, tail)
    }

    /// Splits on `:` but treats `[...]` as one unit, so IPv6 literals in brackets survive
    /// (`[fe80::1]:/export` gives `["[fe80::1]", "/export"]`). An unclosed bracket runs to the end.
    func splitColonsOutsideBrackets() -> [String] {
        var pieces: [String] = []
        var current = String.UnicodeScalarView()
        var depth = 0
        for scalar in unicodeScalars {
            switch scalar {
            case "[":
                depth &+= 1
                current.append(scalar)
            case "]":
                if depth > 0 { depth &-= 1 }
                current.append(scalar)
            case ":" where depth == 0:
                pieces.append(String(current))
                current = String.UnicodeScalarView()
            default:
                current.append(scalar)
            }
        }
        pieces.append(String(current))
        return pieces
    }

    /// Comma-separated list, dropping empty items (`"a,,b,"` gives `["a", "b"]`).
    func commaList() -> [String] {
        splitKeepingEmpty(on: ",").filter { !$0.isEmpty }
    }

    /// True when the first scalar is `scalar`.
    func startsWith(_ scalar: Unicode.Scalar) -> Bool {
        unicodeScalars.first == scalar
    }

    /// True when the last scalar is `scalar`.
    func endsWith(_ scalar: Unicode.Scalar) -> Bool {
        unicodeScalars.last == scalar
    }

    /// The string without its first `count` scalars.
    func droppingScalars(_ count: Int) -> String {
        String(unicodeScalars.dropFirst(count))
    }

    /// The string without its last `count` scalars.
    func droppingLastScalars(_ count: Int) -> String {
        String(unicodeScalars.dropLast(count))
    }

    /// ASCII-lowercased copy (non-ASCII scalars unchanged), without Foundation.
    func asciiLowercased() -> String {
        var out = String.UnicodeScalarView()
        for scalar in unicodeScalars {
            if scalar.value >= 65 && scalar.value <= 90, let lower = Unicode.Scalar(scalar.value + 32) {
                out.append(lower)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// Leading and trailing ASCII whitespace removed.
    func trimmingASCIIWhitespace() -> String {
        let view = unicodeScalars
        guard let first = view.firstIndex(where: { !$0.isASCIIWhitespace }),
            let last = view.lastIndex(where: { !$0.isASCIIWhitespace })
        else { return "" }
        return String(view[first...last])
    }

    /// True when the string contains any ASCII whitespace or control character.
    var containsWhitespaceOrControl: Bool {
        unicodeScalars.contains { $0.isASCIIWhitespace || $0.value < 0x20 || $0.value == 0x7f }
    }

    /// Parses a non-negative decimal integer made only of ASCII digits, refusing overflow.
    func parseDecimal(max: Int = Int.max) -> Int? {
        guard !isEmpty else { return nil }
        var value = 0
        for scalar in unicodeScalars {
            guard scalar.value >= 48 && scalar.value <= 57 else { return nil }
            let digit = Int(scalar.value - 48)
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(digit)
            if overflow1 || overflow2 || sum > max { return nil }
            value = sum
        }
        return value
    }
}

extension Unicode.Scalar {
    /// Space, tab, newline, vertical tab, form feed, carriage return (the kernel's `isspace` set).
    var isASCIIWhitespace: Bool {
        switch value {
        case 0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d: return true
        default: return false
        }
    }

    var isASCIIHexDigit: Bool {
        switch value {
        case 48...57, 65...70, 97...102: return true
        default: return false
        }
    }

    var isASCIIAlphanumeric: Bool {
        switch value {
        case 48...57, 65...90, 97...122: return true
        default: return false
        }
    }
}
