/// Text that came from a layer or from a remote peer (entry names, link targets, an agent's error message),
/// made safe for a message an administrator reads on a terminal: control characters (C0, DEL, C1) and the
/// Unicode controls that reorder or break lines become escapes, a backslash is doubled, and at most `limit`
/// bytes are shown, with the full length noted. A hostile name can then neither drive the terminal nor flood it.
public enum DisplayText {
    public static let defaultLimit = 256

    public static func safe(_ text: String, limit: Int = defaultLimit) -> String {
        var result = ""
        var shownBytes = 0
        for scalar in text.unicodeScalars {
            let piece = escape(scalar)
            if shownBytes + piece.utf8.count > limit {
                return result + "...(\(text.utf8.count) bytes)"
            }
            result += piece
            shownBytes += piece.utf8.count
        }
        return result
    }

    private static func escape(_ scalar: Unicode.Scalar) -> String {
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

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
