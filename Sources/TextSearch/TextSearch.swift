/// Substring search over UTF-8 bytes, for the node's code. The standard library's `contains(_: String)`,
/// `firstRange(of:)` and `split(separator: String)` live in `_StringProcessing`, whose static archive brings the
/// regex engine and the Unicode name tables (about 1.7 MB) into every `/init` that calls any of them. The needles
/// here are ASCII delimiters and path fragments, for which byte equality is what is meant.
extension StringProtocol {
    /// The first range of `needle` in `self`, compared byte for byte, or nil.
    public func range(ofBytes needle: some StringProtocol) -> Range<Index>? {
        let haystack = Array(utf8)
        let pattern = Array(needle.utf8)
        guard let offset = Self.firstOffset(of: pattern, in: haystack) else { return nil }
        let start = utf8.index(utf8.startIndex, offsetBy: offset)
        return start..<utf8.index(start, offsetBy: pattern.count)
    }

    public func containsBytes(_ needle: some StringProtocol) -> Bool {
        needle.utf8.isEmpty || Self.firstOffset(of: Array(needle.utf8), in: Array(utf8)) != nil
    }

    /// The pieces between occurrences of `separator` (a non-empty delimiter), empty ones kept unless told not to.
    public func split(atBytes separator: some StringProtocol, omittingEmpty: Bool = false) -> [SubSequence] {
        var pieces: [SubSequence] = []
        var rest = self[...]
        while let range = rest.range(ofBytes: separator), !separator.utf8.isEmpty {
            let piece = rest[rest.startIndex..<range.lowerBound]
            if !(omittingEmpty && piece.isEmpty) { pieces.append(piece) }
            rest = rest[range.upperBound...]
        }
        if !(omittingEmpty && rest.isEmpty) { pieces.append(rest) }
        return pieces
    }

    private static func firstOffset(of pattern: [UInt8], in haystack: [UInt8]) -> Int? {
        guard !pattern.isEmpty else { return 0 }
        guard pattern.count <= haystack.count else { return nil }
        for start in 0...(haystack.count - pattern.count) where haystack[start] == pattern[0] {
            var matched = true
            for offset in 1..<pattern.count where haystack[start + offset] != pattern[offset] {
                matched = false
                break
            }
            if matched { return start }
        }
        return nil
    }
}
