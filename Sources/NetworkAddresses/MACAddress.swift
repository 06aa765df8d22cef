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
