/// Arbitrary inputs for the boot configuration parsers (kernel command line, xCAT tables): raw bytes, and strings
/// assembled from the syntax's own pieces (keys, separators, quotes, brackets, addresses), which reach far deeper
/// than random bytes alone.
public struct FuzzInputs {
    public var rng: SplitMix64
    /// Parameter names `commandLine()` builds words from.
    public var keys: [String]

    public init(rng: SplitMix64, keys: [String]) {
        self.rng = rng
        self.keys = keys
    }

    public static let pieces = [
        ":", "::", ",", "=", "\"", "[", "]", "/", "-", ".", "%s", "$node", "$noderes.nfsserver", "#CMD=x#", " ", "\t",
        "\n", "10.0.0.1", "255.255.255.0", "fe80::1", "[2001:db8::1]", "52:54:00:12:34:56", "01-52-54-00-12-34-56",
        "dhcp", "none", "off", "tmpfs", "size=", "LABEL=", "UUID=", "/dev/sda", "nfs:", "nfs4:", "nfs://", "vers=3",
        "vers=4", "nolock", "ro", "link", "persistent", "con", "ALL", "\u{301}", "\u{0}", "é", "99999999999999999999",
        "-1", "0", "1", "eth0", "/install/x", "auto", "pre-pivot",
    ]

    public mutating func bytes(maxLength: Int) -> [UInt8] {
        let length = Int(rng.next() % UInt64(maxLength + 1))
        return (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    }

    public mutating func fragment(maxPieces: Int) -> String {
        var text = ""
        let count = Int(rng.next() % UInt64(maxPieces + 1))
        for _ in 0..<count {
            if rng.next() % 8 == 0 {
                text += String(decoding: bytes(maxLength: 4), as: UTF8.self)
            } else {
                text += Self.pieces[Int(rng.next() % UInt64(Self.pieces.count))]
            }
        }
        return text
    }

    public mutating func commandLine() -> String {
        var words: [String] = []
        let count = Int(rng.next() % 8)
        for _ in 0..<count {
            let key = keys[Int(rng.next() % UInt64(keys.count))]
            switch rng.next() % 4 {
            case 0: words.append(key)
            case 1: words.append("\(key)=\(fragment(maxPieces: 6))")
            case 2: words.append("\"\(key)=\(fragment(maxPieces: 4))\"")
            default: words.append(fragment(maxPieces: 3))
            }
        }
        return words.joined(separator: " ")
    }

    public mutating func table() -> String {
        var lines: [String] = []
        for _ in 0..<Int(rng.next() % 6) {
            var fields: [String] = []
            for _ in 0..<Int(rng.next() % 8) {
                let field = fragment(maxPieces: 3)
                fields.append(rng.next() % 2 == 0 ? "\"\(field)\"" : field)
            }
            lines.append((rng.next() % 7 == 0 ? "#" : "") + fields.joined(separator: ","))
        }
        return lines.joined(separator: "\n")
    }
}

extension SplitMix64 {
    /// Random bytes, or a few corrupted bytes and a truncation of one of `seeds`.
    public mutating func fuzzInput(round: Int, seeds: [[UInt8]], maximumLength: Int) -> [UInt8] {
        if round % 2 == 0 || seeds.isEmpty {
            return (0..<Int(next() % UInt64(maximumLength))).map { _ in UInt8(truncatingIfNeeded: next()) }
        }
        var buffer = seeds[Int(next() % UInt64(seeds.count))]
        for _ in 0..<(1 + next() % 8) where !buffer.isEmpty {
            buffer[Int(next() % UInt64(buffer.count))] = UInt8(truncatingIfNeeded: next())
        }
        if next() % 2 == 0 { buffer = Array(buffer.prefix(Int(next() % UInt64(buffer.count + 1)))) }
        return buffer
    }
}

extension FuzzInputs {
    /// The keys the command-line fuzzers draw from: the parser's `known` parameter names, plus names real command
    /// lines carry that are none of them (a module option, `--`, an unknown dotted key, `rw`, `initrd`).
    public static func commandLineKeys(known: some Sequence<String>) -> [String] {
        Array(known).sorted() + ["nodeinit.attr.nodepos.room", "mod.param", "rw", "--", "initrd"]
    }
}

/// How a parser met one fuzz input: it returned, refused with its own error type, or threw something else (a bug:
/// every refusal must carry the parser's message for the console).
public enum FuzzOutcome {
    case accepted
    case refused
    case unexpected(any Error)

    /// Runs `body`; an error of type `Refusal` (an existential like `(any BootConfigError).self` works) is a refusal.
    public init<Refusal>(refusingWith _: Refusal.Type, _ body: () throws -> Void) {
        do {
            try body()
            self = .accepted
        } catch let error {
            self = error is Refusal ? .refused : .unexpected(error)
        }
    }
}
