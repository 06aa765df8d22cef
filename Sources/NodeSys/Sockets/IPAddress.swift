/// IPv4 and IPv6 addresses as plain values, parsed strictly from text and from wire bytes.
///
/// They live in NodeSys because sockets and rtnetlink take them; the protocol code in NodeNetwork uses the same
/// types so that no conversions are needed between the two layers.

/// An IPv4 address held in host order (`10.0.2.15` is `0x0A00_020F`).
public struct IPv4Address: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var value: UInt32

    public init(value: UInt32) { self.value = value }

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// Four bytes in network order; nil unless exactly four.
    public init?<Bytes: Collection>(bytes: Bytes) where Bytes.Element == UInt8 {
        guard bytes.count == 4 else { return nil }
        var result: UInt32 = 0
        for byte in bytes { result = result << 8 | UInt32(byte) }
        value = result
    }

    /// Strict dotted quad: four decimal fields 0...255, no leading zeros (they mean octal to some parsers), no spaces.
    public init?(_ text: some StringProtocol) {
        var fields: [UInt32] = []
        var current: UInt32 = 0
        var digits = 0
        var leadingZero = false
        for scalar in text.unicodeScalars {
            if scalar == "." {
                guard digits > 0 else { return nil }
                fields.append(current)
                current = 0
                digits = 0
                leadingZero = false
                continue
            }
            guard scalar.value >= 48 && scalar.value <= 57 else { return nil }
            let digit = scalar.value - 48
            if digits == 0 && digit == 0 { leadingZero = true } else if leadingZero { return nil }
            digits += 1
            guard digits <= 3 else { return nil }
            current = current * 10 + digit
            guard current <= 255 else { return nil }
        }
        guard digits > 0 else { return nil }
        fields.append(current)
        guard fields.count == 4 else { return nil }
        value = fields[0] << 24 | fields[1] << 16 | fields[2] << 8 | fields[3]
    }

    public static let any = IPv4Address(value: 0)
    public static let broadcast = IPv4Address(value: 0xFFFF_FFFF)

    /// Network-order bytes.
    public var bytes: [UInt8] {
        [UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
         UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }

    public var description: String { bytes.map { String($0) }.joined(separator: ".") }

    public var isUnspecified: Bool { value == 0 }

    /// The netmask for a prefix length; lengths above 32 are clamped to 32.
    public static func netmask(prefixLength: Int) -> IPv4Address {
        let length = max(0, min(32, prefixLength))
        return IPv4Address(value: length == 0 ? 0 : UInt32.max << UInt32(32 - length))
    }

    /// The prefix length when this is a contiguous netmask (`255.255.255.0` -> 24), else nil.
    public var prefixLengthIfNetmask: Int? {
        let ones = value.leadingZeroBitCount == 0 ? (~value).leadingZeroBitCount : 0
        return IPv4Address.netmask(prefixLength: ones) == self ? ones : nil
    }

    /// The network part under a prefix length.
    public func masked(prefixLength: Int) -> IPv4Address {
        IPv4Address(value: value & IPv4Address.netmask(prefixLength: prefixLength).value)
    }

    public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool { lhs.value < rhs.value }
}

/// An IPv6 address as sixteen network-order bytes.
public struct IPv6Address: Hashable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    public init?<Bytes: Collection>(bytes: Bytes) where Bytes.Element == UInt8 {
        guard bytes.count == 16 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (position, byte) in bytes.enumerated() {
            if position < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
        }
        self.high = high
        self.low = low
    }

    /// RFC 4291 text: eight hex groups, one `::` run, optional trailing dotted quad. No zone (`%eth0`), no brackets.
    public init?(_ text: some StringProtocol) {
        let string = String(text)
        guard !string.isEmpty, string.utf8.count <= 45 else { return nil }
        let halves = string.split(separator: "::", omittingEmptySubsequences: false)
        guard halves.count <= 2 else { return nil }
        func groups(_ part: Substring, allowIPv4Tail: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            for (position, field) in fields.enumerated() {
                if position == fields.count - 1, allowIPv4Tail, field.contains(".") {
                    guard let v4 = IPv4Address(field) else { return nil }
                    result.append(UInt16(truncatingIfNeeded: v4.value >> 16))
                    result.append(UInt16(truncatingIfNeeded: v4.value))
                    continue
                }
                guard (1...4).contains(field.utf8.count),
                    field.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 | 0x20 >= 97 && $0 | 0x20 <= 102) }),
                    let group = UInt16(field, radix: 16)
                else { return nil }
                result.append(group)
            }
            return result
        }
        var all: [UInt16]
        if halves.count == 2 {
            guard let head = groups(halves[0], allowIPv4Tail: false), let tail = groups(halves[1], allowIPv4Tail: true),
                head.count + tail.count <= 7
            else { return nil }
            all = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        } else {
            guard let only = groups(halves[0], allowIPv4Tail: true), only.count == 8 else { return nil }
            all = only
        }
        var bytes: [UInt8] = []
        for group in all { bytes.append(UInt8(group >> 8)); bytes.append(UInt8(group & 0xFF)) }
        guard let parsed = IPv6Address(bytes: bytes) else { return nil }
        self = parsed
    }

    public var bytes: [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(16)
        for shift in stride(from: 56, through: 0, by: -8) { result.append(UInt8(truncatingIfNeeded: high >> UInt64(shift))) }
        for shift in stride(from: 56, through: 0, by: -8) { result.append(UInt8(truncatingIfNeeded: low >> UInt64(shift))) }
        return result
    }

    /// RFC 5952 canonical text: lowercase, longest run (>= 2) of zero groups as `::`.
    public var description: String {
        let raw = bytes
        var groups: [UInt16] = []
        for index in stride(from: 0, to: 16, by: 2) { groups.append(UInt16(raw[index]) << 8 | UInt16(raw[index + 1])) }
        var bestStart = -1
        var bestLength = 0
        var runStart = -1
        for (index, group) in groups.enumerated() {
            if group == 0 {
                if runStart < 0 { runStart = index }
                let length = index - runStart + 1
                if length > bestLength { bestLength = length; bestStart = runStart }
            } else {
                runStart = -1
            }
        }
        if bestLength < 2 { return groups.map { String($0, radix: 16) }.joined(separator: ":") }
        let head = groups[..<bestStart].map { String($0, radix: 16) }.joined(separator: ":")
        let tail = groups[(bestStart + bestLength)...].map { String($0, radix: 16) }.joined(separator: ":")
        return head + "::" + tail
    }
}

/// Either family.
public enum IPAddress: Hashable, Sendable, CustomStringConvertible {
    case v4(IPv4Address)
    case v6(IPv6Address)

    /// Accepts a dotted quad, an IPv6 literal, or an IPv6 literal in brackets (`[2001:db8::1]`).
    public init?(_ text: some StringProtocol) {
        if let v4 = IPv4Address(text) {
            self = .v4(v4)
            return
        }
        var string = Substring(text)
        if string.hasPrefix("[") && string.hasSuffix("]") && string.count >= 2 {
            string = string.dropFirst().dropLast()
        }
        guard let v6 = IPv6Address(string) else { return nil }
        self = .v6(v6)
    }

    public var description: String {
        switch self {
        case .v4(let address): address.description
        case .v6(let address): address.description
        }
    }
}

/// An Ethernet (or other link-layer) hardware address.
public struct MACAddress: Hashable, Sendable, CustomStringConvertible {
    public var bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// `aa:bb:cc:dd:ee:ff` or `aa-bb-cc-dd-ee-ff`, case-insensitive, six groups of two hex digits.
    public init?(_ text: some StringProtocol) {
        let fields = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == ":" || $0 == "-" })
        guard fields.count == 6 else { return nil }
        var parsed: [UInt8] = []
        for field in fields {
            guard field.utf8.count == 2, let byte = UInt8(field, radix: 16) else { return nil }
            parsed.append(byte)
        }
        bytes = parsed
    }

    /// Lowercase colon-separated hex.
    public var description: String {
        bytes.map { byte in
            let text = String(byte, radix: 16)
            return text.count == 1 ? "0" + text : text
        }.joined(separator: ":")
    }
}
