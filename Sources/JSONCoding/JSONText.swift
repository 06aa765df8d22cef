/// String quoting for the JSON documents written field by field (boot.json, the network lease): code on the
/// boot's hot path builds those without an encoder pass.
public enum JSONText {
    public static func quoted(_ text: String) -> String { JSONWriter.quoted(text) }

    /// `null` for nil, else the quoted string.
    public static func optional(_ text: String?) -> String { text.map(quoted) ?? "null" }
}
