/// A value written as its canonical text, which is also its `description`: plans are JSON that people read, so an
/// address appears as `10.0.2.2` or `52:54:00:12:34:56`, never as a byte array.
public protocol CanonicalText: Codable, CustomStringConvertible {
    /// The value the text names, nil for text that names none.
    static func parsing(_ text: String) -> Self?
}

extension CanonicalText {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let parsed = Self.parsing(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "not a \(Self.self): \(text)"))
        }
        self = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension IPAddress: CanonicalText {
    public static func parsing(_ text: String) -> IPAddress? { IPAddress(text) }
}

extension MACAddress: CanonicalText {
    public static func parsing(_ text: String) -> MACAddress? { MACAddress(text) }
}
