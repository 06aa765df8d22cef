/// A file name or relative path exactly as the kernel stores it: bytes, any but NUL (and `/` within one name).
/// Linux names need not be UTF-8; a `String` cannot hold `n\xff` and `n\xfe` apart (both decode to `n\u{FFFD}`),
/// so everything that walks, writes or compares names carries them as `PathBytes`.
///
/// `description` is the display form used in messages: valid UTF-8 as text, every byte that is not part of a
/// valid UTF-8 sequence as `\xNN`, control characters as `\xNN`, a backslash doubled, so the display form is
/// reversible and safe on a terminal (see `PathBytes.escaped`).
public struct PathBytes: Sendable, Hashable, Comparable, ExpressibleByStringInterpolation, CustomStringConvertible {
    public var bytes: [UInt8]

    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public init<Bytes: Sequence<UInt8>>(bytes: Bytes) { self.bytes = Array(bytes) }
    public init(_ string: String) { bytes = Array(string.utf8) }
    public init(stringLiteral value: String) { bytes = Array(value.utf8) }
    public init(stringInterpolation: DefaultStringInterpolation) {
        bytes = Array(String(stringInterpolation: stringInterpolation).utf8)
    }

    public var isEmpty: Bool { bytes.isEmpty }
    public var count: Int { bytes.count }

    /// The name as text when it is valid UTF-8, else nil.
    public var string: String? { String(validating: bytes, as: UTF8.self) }

    /// Byte order (what `ls` with LC_ALL=C shows), so walks and layers are deterministic.
    public static func < (a: PathBytes, b: PathBytes) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }

    public static func + (a: PathBytes, b: PathBytes) -> PathBytes { PathBytes(a.bytes + b.bytes) }

    public func hasPrefix(_ prefix: PathBytes) -> Bool { bytes.starts(with: prefix.bytes) }
    public func hasSuffix(_ suffix: PathBytes) -> Bool {
        bytes.count >= suffix.bytes.count && bytes[(bytes.count - suffix.bytes.count)...].elementsEqual(suffix.bytes)
    }
    public func contains(_ byte: UInt8) -> Bool { bytes.contains(byte) }
    public func dropFirst(_ count: Int) -> PathBytes { PathBytes(Array(bytes.dropFirst(count))) }

    /// `parent/name`, or `name` when the parent is empty.
    public func appending(_ name: PathBytes) -> PathBytes {
        isEmpty ? name : PathBytes(bytes + [UInt8(ascii: "/")] + name.bytes)
    }

    /// Components split at `/`, empty ones dropped.
    public var components: [PathBytes] {
        bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true).map { PathBytes(Array($0)) }
    }

    /// Everything up to and including the last `/` (empty when there is none), and the last name.
    public var parentAndName: (parent: PathBytes, name: PathBytes) {
        guard let slash = bytes.lastIndex(of: UInt8(ascii: "/")) else { return ("", self) }
        return (PathBytes(Array(bytes[...slash])), PathBytes(Array(bytes[(slash + 1)...])))
    }

    /// Calls `body` with the bytes NUL-terminated (the caller has refused embedded NULs where it matters).
    public func withCString<Result, Failure: Swift.Error>(
        _ body: (UnsafePointer<CChar>) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        var terminated = bytes.map { CChar(bitPattern: $0) }
        terminated.append(0)
        return try body(terminated)
    }

    public var description: String { PathBytes.escaped(bytes) }

    /// The reversible display form of arbitrary bytes: valid UTF-8 stays text, except that C0/DEL/C1 controls
    /// and the Unicode controls that reorder or break lines are escaped (`\xNN`, `\u{NNNN}`); bytes outside any
    /// valid UTF-8 sequence become `\xNN`; a backslash is doubled. At most `limit` bytes are shown.
    public static func escaped<Bytes: Collection<UInt8>>(_ bytes: Bytes, limit: Int = Int.max) -> String {
        let all = Array(bytes)
        var result = ""
        var shown = 0
        var index = 0
        while index < all.count {
            let piece: String
            if let (scalar, length) = decodeScalar(all, at: index) {
                piece = escape(scalar)
                index += length
            } else {
                piece = "\\x" + hex(UInt32(all[index]), width: 2)
                index += 1
            }
            if shown + piece.utf8.count > limit { return result + "...(\(all.count) bytes)" }
            result += piece
            shown += piece.utf8.count
        }
        return result
    }

    /// The scalar whose well-formed UTF-8 sequence starts at `index` and its length; nil for a byte that does
    /// not start one (stray continuation, overlong form, surrogate, beyond U+10FFFF, cut short).
    static func decodeScalar(_ bytes: [UInt8], at index: Int) -> (Unicode.Scalar, Int)? {
        let lead = bytes[index]
        if lead < 0x80 { return (Unicode.Scalar(lead), 1) }
        let length: Int
        var value: UInt32
        switch lead {
        case 0xc2...0xdf: (length, value) = (2, UInt32(lead & 0x1f))
        case 0xe0...0xef: (length, value) = (3, UInt32(lead & 0x0f))
        case 0xf0...0xf4: (length, value) = (4, UInt32(lead & 0x07))
        default: return nil
        }
        guard index + length <= bytes.count else { return nil }
        for offset in 1..<length {
            let byte = bytes[index + offset]
            guard byte & 0xc0 == 0x80 else { return nil }
            value = value << 6 | UInt32(byte & 0x3f)
        }
        let minimum: UInt32 = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000
        guard value >= minimum, let scalar = Unicode.Scalar(value) else { return nil }
        return (scalar, length)
    }

    /// One scalar's display form (shared with OverlayCapture's `DisplayText`).
    public static func escape(_ scalar: Unicode.Scalar) -> String {
        let value = scalar.value
        if value == 0x5c { return "\\\\" }
        if value < 0x20 || value == 0x7f { return "\\x" + hex(value, width: 2) }
        if (0x80...0x9f).contains(value) || (0x202a...0x202e).contains(value) || (0x2066...0x2069).contains(value)
            || value == 0x2028 || value == 0x2029 || value == 0x200e || value == 0x200f || value == 0x061c
        {
            return "\\u{" + hex(value, width: 4) + "}"
        }
        return String(scalar)
    }

    static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

/// A name FileTree calls accept: a `String` (its UTF-8) or exact `PathBytes`.
public protocol FileTreeName {
    var pathBytes: PathBytes { get }
}

extension String: FileTreeName {
    public var pathBytes: PathBytes { PathBytes(self) }
}

extension Substring: FileTreeName {
    public var pathBytes: PathBytes { PathBytes(bytes: utf8) }
}

extension PathBytes: FileTreeName {
    public var pathBytes: PathBytes { self }
}
