import NodeSys

/// Text that came from a layer or from a remote peer (entry names, link targets, an agent's error message),
/// made safe for a message an administrator reads on a terminal: control characters (C0, DEL, C1) and the
/// Unicode controls that reorder or break lines become escapes, a backslash is doubled, and at most `limit`
/// bytes are shown, with the full length noted. A hostile name can then neither drive the terminal nor flood it.
/// Names given as bytes (`PathBytes`) show each byte outside valid UTF-8 as `\xNN`, so `n\xff` and `n\xfe`
/// stay apart in messages (the escaping is `PathBytes.escaped`, shared with NodeSys).
public enum DisplayText {
    public static let defaultLimit = 256

    public static func safe(_ text: String, limit: Int = defaultLimit) -> String {
        PathBytes.escaped(text.utf8, limit: limit)
    }

    public static func safe(_ name: PathBytes, limit: Int = defaultLimit) -> String {
        PathBytes.escaped(name.bytes, limit: limit)
    }
}
