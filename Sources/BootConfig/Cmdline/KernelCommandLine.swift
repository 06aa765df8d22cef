/// The kernel command line split the way the kernel itself splits it (`lib/cmdline.c` `next_arg` and
/// `kernel/params.c` `parse_args`), so that what nodeinit sees is what the kernel and dracut see:
///
/// - parameters are separated by ASCII whitespace outside double quotes;
/// - `a="x y"` gives `a` = `x y`, and `"a=x y"` gives `a` = `x y` (a leading quote of the value and a trailing quote of
///   the word are dropped; quotes elsewhere stay);
/// - a word without `=` is a bare word (a flag such as `rd.overlay` or `shell`), its value is nil;
/// - a bare `--` ends the parameters: every word after it is an argument for the init (`initArguments`);
/// - repeated keys are all kept, in order (`last(_:)` for scalars, `all(_:)` for repeatables).
///
/// Tokenizing never fails: any byte string gives a command line (invalid UTF-8 becomes U+FFFD).
public struct KernelCommandLine: Equatable, Sendable {
    /// One `key[=value]` word.
    public struct Parameter: Equatable, Sendable {
        /// The key as written, before the first `=`.
        public var key: String
        /// The value after the first `=`, or nil for a bare word. `key=` gives an empty (non-nil) value.
        public var value: String?
        /// Position among the parameters (0-based), so later code can order conflicting keys.
        public var index: Int
    }

    /// The parameters before `--`, in order.
    public var parameters: [Parameter]
    /// The words after a bare `--`, passed to the image's init.
    public var initArguments: [String]

    /// Tokenizes raw bytes (e.g. the contents of `/proc/cmdline`, which ends with a newline).
    public init<Bytes: Sequence>(bytes: Bytes) where Bytes.Element == UInt8 {
        self.init(String(decoding: Array(bytes), as: UTF8.self))
    }

    /// Tokenizes a command line given as text.
    public init(_ text: String) {
        var parameters: [Parameter] = []
        var initArguments: [String] = []
        var afterSeparator = false
        for word in Self.words(text) {
            if afterSeparator {
                // The kernel hands the rest to init unsplit by `=`; keep each word verbatim (quotes already removed).
                initArguments.append(word.rawWithoutQuotes)
                continue
            }
            if word.key == "--" && word.value == nil {
                afterSeparator = true
                continue
            }
            parameters.append(Parameter(key: word.key, value: word.value, index: parameters.count))
        }
        self.parameters = parameters
        self.initArguments = initArguments
    }

    /// The last value given for `key` (nil if absent; `""` for `key=`; nil value of a bare word counts as absent
    /// here: use `contains` or `lastParameter` to see bare words).
    public func last(_ key: String) -> String? {
        lastParameter(key)?.value
    }

    /// The last occurrence of `key`, bare or with a value.
    public func lastParameter(_ key: String) -> Parameter? {
        parameters.last { $0.key == key }
    }

    /// Every occurrence of `key`, in order.
    public func all(_ key: String) -> [Parameter] {
        parameters.filter { $0.key == key }
    }

    /// Every value given for `key` (bare occurrences skipped), in order.
    public func values(_ key: String) -> [String] {
        parameters.compactMap { $0.key == key ? $0.value : nil }
    }

    /// True when `key` appears at all, bare or with a value.
    public func contains(_ key: String) -> Bool {
        parameters.contains { $0.key == key }
    }

    // MARK: - Kernel word splitting

    struct Word {
        var key: String
        var value: String?
        var rawWithoutQuotes: String
    }

    /// Splits into words following `next_arg`: a word starting with `"` begins quoted; `"` toggles quoting;
    /// whitespace outside quotes ends a word. The first `=` splits key from value.
    static func words(_ text: String) -> [Word] {
        let scalars = Array(text.unicodeScalars)
        var words: [Word] = []
        var position = 0
        while position < scalars.count {
            while position < scalars.count, scalars[position].isASCIIWhitespace { position += 1 }
            if position >= scalars.count { break }
            var start = position
            var inQuote = false
            var quoted = false
            if scalars[start] == "\"" {
                start += 1
                inQuote = true
                quoted = true
            }
            var end = start
            var equals: Int? = nil
            while end < scalars.count {
                let scalar = scalars[end]
                if scalar.isASCIIWhitespace && !inQuote { break }
                if equals == nil && scalar == "=" && end > start { equals = end }
                if scalar == "\"" { inQuote.toggle() }
                end += 1
            }
            position = end
            // Drop the closing quote of a quoted word (the kernel: `if (quoted && args[i-1] == '"')`).
            var wordEnd = end
            if quoted && wordEnd > start && scalars[wordEnd - 1] == "\"" { wordEnd -= 1 }
            var raw = String.UnicodeScalarView()
            raw.append(contentsOf: scalars[start..<wordEnd])
            guard let equalsIndex = equals, equalsIndex < wordEnd else {
                let rawText = String(raw)
                words.append(Word(key: rawText, value: nil, rawWithoutQuotes: rawText))
                continue
            }
            var key = String.UnicodeScalarView()
            key.append(contentsOf: scalars[start..<equalsIndex])
            var valueStart = equalsIndex + 1
            var valueEnd = wordEnd
            // Don't include quotes in the value: `a="x y"` (the kernel strips the trailing one only if present).
            if valueStart < scalars.count, valueStart < end, scalars[valueStart] == "\"" {
                valueStart += 1
                if !quoted && end > valueStart && scalars[end - 1] == "\"" { valueEnd = end - 1 }
            }
            var value = String.UnicodeScalarView()
            if valueStart < valueEnd { value.append(contentsOf: scalars[valueStart..<valueEnd]) }
            words.append(Word(key: String(key), value: String(value), rawWithoutQuotes: String(raw)))
        }
        return words
    }
}
