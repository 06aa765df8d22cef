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
        [
            UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
            UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value),
        ]
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
