/// An IPv4 or IPv6 address parsed from text (no DNS, no I/O). Encodes as its canonical text
/// (dotted quad; RFC 5952 compressed lowercase IPv6), which is also its `description`.
public struct IPAddress: Hashable, Codable, Sendable, CustomStringConvertible, Comparable {
    /// 4 bytes for IPv4, 16 for IPv6, network order.
    public let bytes: [UInt8]

    public var isIPv6: Bool { bytes.count == 16 }

    /// Parses `a.b.c.d`, an IPv6 literal, or an IPv6 literal in brackets (`[fe80::1]`).
    public init?(_ text: String) {
        var body = text
        if body.startsWith("[") && body.endsWith("]") {
            body = body.droppingScalars(1).droppingLastScalars(1)
            guard let v6 = Self.parseIPv6(body) else { return nil }
            bytes = v6
            return
        }
        if let v4 = Self.parseIPv4(body) {
            bytes = v4
        } else if let v6 = Self.parseIPv6(body) {
            bytes = v6
        } else {
            return nil
        }
    }

    /// An IPv4 address from its 32-bit value (host order).
    public init(ipv4 value: UInt32) {
        bytes = [UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
                 UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }

    public var description: String {
        if bytes.count == 4 {
            return bytes.map { String($0) }.joined(separator: ".")
        }
        var groups: [UInt16] = []
        var index = 0
        while index + 1 < bytes.count {
            groups.append(UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1]))
            index += 2
        }
        // Longest run of at least two zero groups is shown as "::" (RFC 5952).
        var bestStart = -1, bestLength = 0, runStart = -1
        for (i, group) in groups.enumerated() {
            if group == 0 {
                if runStart < 0 { runStart = i }
                let length = i - runStart + 1
                if length > bestLength { bestStart = runStart; bestLength = length }
            } else {
                runStart = -1
            }
        }
        func hex(_ slice: ArraySlice<UInt16>) -> String {
            slice.map { String($0, radix: 16) }.joined(separator: ":")
        }
        if bestLength < 2 { return hex(groups[...]) }
        return hex(groups[0..<bestStart]) + "::" + hex(groups[(bestStart + bestLength)...])
    }

    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        if lhs.bytes.count != rhs.bytes.count { return lhs.bytes.count < rhs.bytes.count }
        return lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let parsed = IPAddress(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad address \(text)"))
        }
        self = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    static func parseIPv4(_ text: String) -> [UInt8]? {
        let parts = text.splitKeepingEmpty(on: ".")
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for part in parts {
            guard part.unicodeScalars.count <= 3, let value = part.parseDecimal(max: 255) else { return nil }
            out.append(UInt8(value))
        }
        return out
    }

    static func parseIPv6(_ text: String) -> [UInt8]? {
        guard !text.isEmpty, text.unicodeScalars.count <= 45 else { return nil }
        var head: [UInt16] = []
        var tail: [UInt16] = []
        var sawDoubleColon = false
        if let range = text.doubleColonRange() {
            sawDoubleColon = true
            let left = range.left, right = range.right
            guard !right.contains("::") else { return nil }
            guard let l = parseGroups(left, allowIPv4Tail: right.isEmpty),
                  let r = parseGroups(right, allowIPv4Tail: true) else { return nil }
            head = l
            tail = r
        } else {
            guard let all = parseGroups(text, allowIPv4Tail: true) else { return nil }
            head = all
        }
        let total = head.count + tail.count
        if sawDoubleColon {
            guard total <= 7 else { return nil }
        } else {
            guard total == 8 else { return nil }
        }
        let groups = head + Array(repeating: 0, count: 8 - total) + tail
        var out: [UInt8] = []
        for group in groups {
            out.append(UInt8(truncatingIfNeeded: group >> 8))
            out.append(UInt8(truncatingIfNeeded: group))
        }
        return out
    }

    /// Colon-separated hex groups; the last one may be a dotted IPv4 (two groups). Empty text gives no groups.
    private static func parseGroups(_ text: String, allowIPv4Tail: Bool) -> [UInt16]? {
        if text.isEmpty { return [] }
        let parts = text.splitKeepingEmpty(on: ":")
        var groups: [UInt16] = []
        for (i, part) in parts.enumerated() {
            if i == parts.count - 1, allowIPv4Tail, part.contains("."), let v4 = parseIPv4(part) {
                groups.append(UInt16(v4[0]) << 8 | UInt16(v4[1]))
                groups.append(UInt16(v4[2]) << 8 | UInt16(v4[3]))
                continue
            }
            let scalars = part.unicodeScalars
            guard !scalars.isEmpty, scalars.count <= 4, scalars.allSatisfy({ $0.isASCIIHexDigit }),
                  let value = UInt16(part, radix: 16) else { return nil }
            groups.append(value)
        }
        return groups
    }
}

extension String {
    /// The text left and right of the first `::`, or nil.
    fileprivate func doubleColonRange() -> (left: String, right: String)? {
        let scalars = Array(unicodeScalars)
        var i = 0
        while i + 1 < scalars.count {
            if scalars[i] == ":" && scalars[i + 1] == ":" {
                var left = String.UnicodeScalarView()
                left.append(contentsOf: scalars[0..<i])
                var right = String.UnicodeScalarView()
                right.append(contentsOf: scalars[(i + 2)...])
                return (String(left), String(right))
            }
            i += 1
        }
        return nil
    }
}

/// An address with a prefix length, e.g. a route destination `10.0.0.0/8` or an allow-list entry.
public struct IPNetwork: Hashable, Codable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    /// 0...32 for IPv4, 0...128 for IPv6.
    public var prefixLength: Int

    public init(address: IPAddress, prefixLength: Int) {
        self.address = address
        self.prefixLength = prefixLength
    }

    /// Parses `addr/len`, `[v6]/len`, or a bare address (full-length prefix).
    public init?(_ text: String) {
        if let (addressText, lengthText) = text.splitOnce(on: "/") {
            guard let address = IPAddress(addressText),
                  let length = lengthText.parseDecimal(max: address.isIPv6 ? 128 : 32) else { return nil }
            self.init(address: address, prefixLength: length)
        } else {
            guard let address = IPAddress(text) else { return nil }
            self.init(address: address, prefixLength: address.isIPv6 ? 128 : 32)
        }
    }

    public var description: String { "\(address)/\(prefixLength)" }

    /// The prefix length of a dotted IPv4 netmask (`255.255.255.0` gives 24); nil if not contiguous.
    public static func prefixLength(ofNetmask mask: IPAddress) -> Int? {
        guard mask.bytes.count == 4 else { return nil }
        var value: UInt32 = 0
        for byte in mask.bytes { value = value << 8 | UInt32(byte) }
        let ones = value.leadingZeroBitCount == 0 ? (~value).leadingZeroBitCount : 0
        if value == 0 { return 0 }
        // Contiguous means: after the leading ones, only zeros.
        let shifted = ones >= 32 ? 0 : value << UInt32(ones)
        return shifted == 0 ? ones : nil
    }
}
