/// modules.alias parsed: "alias <glob> <module>" lines, matched against a device's modalias
/// the way modprobe does (fnmatch-style globs).
public struct ModuleAliases: Sendable {
    public struct Alias: Sendable, Equatable {
        public var pattern: ModaliasGlob
        public var module: ModuleName
    }

    public private(set) var aliases: [Alias] = []

    public init(parsing text: String) {
        for line in text.split(whereSeparator: \.isNewline) {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count == 3, fields[0] == "alias" else { continue }
            aliases.append(Alias(pattern: ModaliasGlob(fields[1]), module: ModuleName(fields[2])))
        }
    }

    /// Modules whose alias pattern matches `modalias`, in file order, each once.
    public func modules(matching modalias: String) -> [ModuleName] {
        let subject = Array(modalias.utf8)
        var result: [ModuleName] = []
        for alias in aliases where alias.pattern.matches(subject) {
            if !result.contains(alias.module) { result.append(alias.module) }
        }
        return result
    }
}

/// A modules.alias pattern: `*` (any run), `?` (one byte), `[...]` (a set, `!` or `^` negates,
/// `a-z` ranges), other bytes literal. Matching is over bytes; modaliases are ASCII.
public struct ModaliasGlob: Sendable, Equatable, CustomStringConvertible {
    public let pattern: [UInt8]

    public init(_ text: some StringProtocol) { pattern = Array(text.utf8) }

    public var description: String { String(decoding: pattern, as: UTF8.self) }

    public func matches(_ text: String) -> Bool { matches(Array(text.utf8)) }

    /// Iterative matcher with single-star backtracking: on a mismatch, retry from the last `*`
    /// one byte further along the subject. Linear in practice, never recursive.
    public func matches(_ subject: [UInt8]) -> Bool {
        var p = 0
        var s = 0
        var starPattern = -1
        var starSubject = 0
        while s < subject.count {
            if p < pattern.count {
                let byte = pattern[p]
                if byte == UInt8(ascii: "*") {
                    starPattern = p
                    starSubject = s
                    p += 1
                    continue
                }
                if byte == UInt8(ascii: "?") {
                    p += 1
                    s += 1
                    continue
                }
                if byte == UInt8(ascii: "["), let (matched, next) = matchSet(at: p, byte: subject[s]) {
                    if matched {
                        p = next
                        s += 1
                        continue
                    }
                } else if byte == subject[s] {
                    p += 1
                    s += 1
                    continue
                }
            }
            guard starPattern >= 0 else { return false }
            starSubject += 1
            s = starSubject
            p = starPattern + 1
        }
        while p < pattern.count && pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }

    /// Matches `byte` against the bracket set starting at `start`; nil when the set is unterminated
    /// (then "[" is a literal, as in fnmatch).
    private func matchSet(at start: Int, byte: UInt8) -> (Bool, Int)? {
        var i = start + 1
        var negate = false
        if i < pattern.count && (pattern[i] == UInt8(ascii: "!") || pattern[i] == UInt8(ascii: "^")) {
            negate = true
            i += 1
        }
        var matched = false
        var first = true
        while i < pattern.count {
            let current = pattern[i]
            if current == UInt8(ascii: "]") && !first {
                return (matched != negate, i + 1)
            }
            first = false
            if i + 2 < pattern.count && pattern[i + 1] == UInt8(ascii: "-") && pattern[i + 2] != UInt8(ascii: "]") {
                if current <= byte && byte <= pattern[i + 2] { matched = true }
                i += 3
            } else {
                if current == byte { matched = true }
                i += 1
            }
        }
        return nil
    }
}
