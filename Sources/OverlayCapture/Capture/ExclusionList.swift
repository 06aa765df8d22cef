import NodeSys

/// Paths left out of a capture. Patterns are absolute image paths whose components may use `*` and `?`;
/// a pattern excludes what it matches and everything below it (`/tmp/*` drops the contents of /tmp, keeps /tmp).
/// A pattern without any `/` matches an entry of that name anywhere (`__pycache__`, `*.pyc`).
public struct ExclusionList: Sendable, Equatable {
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case relativePattern(String)

        public var description: String {
            switch self {
            case .relativePattern(let pattern):
                return
                    "exclusion pattern '\(DisplayText.safe(pattern))' must be absolute (start with /) or a bare name without /"
            }
        }
    }

    /// Defaults: volatile or machine-specific state a saved image must not carry (see README "Node save").
    public static let defaultPatterns: [String] = [
        "/tmp/*", "/var/tmp/*", "/run/*", "/proc/*", "/sys/*", "/dev/*",
        "/var/cache/apt/archives/*.deb", "/var/cache/apt/archives/partial/*", "/var/cache/apt/*.bin",
        "/etc/machine-id", "/var/lib/dbus/machine-id", "/var/lib/systemd/random-seed",
    ]

    private var anchored: [[[UInt8]]] = []
    private var anywhere: [[UInt8]] = []
    public private(set) var patterns: [String] = []

    public init(_ patterns: [String] = []) throws(Error) {
        for pattern in patterns { try add(pattern) }
    }

    public mutating func add(_ pattern: String) throws(Error) {
        let trimmed = pattern.trimmingSpaces
        guard !trimmed.isEmpty else { return }
        if trimmed.hasPrefix("/") {
            let components = trimmed.split(separator: "/")
            guard !components.isEmpty else { return }  // "/" would exclude everything; ignored
            anchored.append(components.map { Array($0.utf8) })
        } else if !trimmed.contains("/") {
            anywhere.append(Array(trimmed.utf8))
        } else {
            throw .relativePattern(trimmed)
        }
        patterns.append(trimmed)
    }

    /// Adds the patterns of a `save-exclude` file: one per line, `#` starts a comment line.
    public mutating func addFile(_ text: String) throws(Error) {
        for line in text.split(separator: "\n") where !line.trimmingSpaces.hasPrefix("#") {
            try add(String(line))
        }
    }

    /// Whether the image path `components` (e.g. ["var", "tmp", "x"]) is excluded. Names are bytes: `*` and
    /// `?` match bytes (fnmatch in the C locale), so a pattern matches names that are not UTF-8 too.
    /// Walks call this for every entry, so a directory's exclusion also stops the walk below it.
    public func excludes(_ components: [PathBytes]) -> Bool {
        if let name = components.last, anywhere.contains(where: { ExclusionList.glob($0, name.bytes) }) { return true }
        for pattern in anchored where pattern.count <= components.count {
            var matched = true
            for (index, part) in pattern.enumerated() where !ExclusionList.glob(part, components[index].bytes) {
                matched = false
                break
            }
            if matched { return true }
        }
        return false
    }

    /// Text components (patterns' own tests): the same match over their UTF-8.
    public func excludes(_ components: [Substring]) -> Bool {
        excludes(components.map { PathBytes(bytes: $0.utf8) })
    }

    /// Shell-style match of one component: `*` any run, `?` one byte.
    static func glob(_ pattern: [UInt8], _ name: [UInt8]) -> Bool {
        name.withUnsafeBufferPointer { glob(pattern, $0) }
    }

    static func glob(_ p: [UInt8], _ n: UnsafeBufferPointer<UInt8>) -> Bool {
        var pi = 0
        var ni = 0
        var starP = -1
        var starN = 0
        while ni < n.count {
            if pi < p.count && (p[pi] == UInt8(ascii: "?") || p[pi] == n[ni]) {
                pi += 1
                ni += 1
            } else if pi < p.count && p[pi] == UInt8(ascii: "*") {
                starP = pi
                starN = ni
                pi += 1
            } else if starP >= 0 {
                pi = starP + 1
                starN += 1
                ni = starN
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" || first == "\r" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" || last == "\r" { scalars.removeLast() }
        return String(scalars)
    }
}
