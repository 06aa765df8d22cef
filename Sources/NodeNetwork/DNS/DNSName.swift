/// Domain names on the wire (RFC 1035 section 3.1 and 4.1.4): length-prefixed labels, compression pointers on read.
public enum DNSName {
    public enum Error: Swift.Error, Hashable, Sendable, CustomStringConvertible {
        case empty
        case emptyLabel(String)
        case labelTooLong(String)
        case nameTooLong(String)
        case truncated(offset: Int)
        case badLabelType(UInt8, offset: Int)
        case pointerLoop(offset: Int)
        case pointerOutOfRange(target: Int, offset: Int)
        /// A label from the wire holds a '.' byte: as dotted text it would read as two labels.
        case dotInLabel(offset: Int)

        public var description: String {
            switch self {
            case .empty: "dns: empty name"
            case .emptyLabel(let name): "dns: name '\(name)' has an empty label"
            case .labelTooLong(let name): "dns: name '\(name)' has a label longer than 63 bytes"
            case .nameTooLong(let name): "dns: name '\(name)' is longer than 255 bytes on the wire"
            case .truncated(let offset): "dns: name at byte \(offset) runs past the end of the message"
            case .badLabelType(let byte, let offset):
                "dns: reserved label type 0x\(String(byte, radix: 16)) at byte \(offset)"
            case .pointerLoop(let offset): "dns: compression pointers starting at byte \(offset) loop or chain too deep"
            case .pointerOutOfRange(let target, let offset):
                "dns: compression pointer at byte \(offset) points to \(target), past the message"
            case .dotInLabel(let offset):
                "dns: label at byte \(offset) contains a '.' byte; such a name has no dotted form (refused)"
            }
        }
    }

    /// At most this many pointers are followed for one name: a name has at most 127 labels, and real messages use one
    /// or two pointers; the bound makes loops (a pointer to itself, or a cycle) an error instead of a hang.
    static let maximumPointers = 64

    /// `node1.example.com` (a trailing dot is allowed) as labels, validated.
    public static func encode(_ name: String) throws(Error) -> [UInt8] {
        var text = Substring(name)
        if text.hasSuffix(".") { text = text.dropLast() }
        guard !text.isEmpty else { throw .empty }
        var bytes: [UInt8] = []
        for label in text.split(separator: ".", omittingEmptySubsequences: false) {
            let raw = Array(label.utf8)
            guard !raw.isEmpty else { throw .emptyLabel(name) }
            guard raw.count <= 63 else { throw .labelTooLong(name) }
            bytes.append(UInt8(raw.count))
            bytes.append(contentsOf: raw)
        }
        bytes.append(0)
        guard bytes.count <= 255 else { throw .nameTooLong(name) }
        return bytes
    }

    /// Reads the name at `offset`, following compression pointers. Returns the dotted name (no trailing dot; the
    /// root is "") and the offset just past the name where it started (not where a pointer led).
    public static func decode(_ message: [UInt8], at offset: Int) throws(Error) -> (name: String, next: Int) {
        var labels: [String] = []
        var position = offset
        var next: Int?
        var pointers = 0
        var wireLength = 1
        while true {
            guard position >= 0, position < message.count else { throw .truncated(offset: position) }
            let length = message[position]
            switch length & 0xC0 {
            case 0x00:
                if length == 0 {
                    return (labels.joined(separator: "."), next ?? position + 1)
                }
                let start = position + 1
                let end = start + Int(length)
                guard end <= message.count else { throw .truncated(offset: position) }
                wireLength += Int(length) + 1
                guard wireLength <= 255 else { throw .nameTooLong(labels.joined(separator: ".")) }
                // Names leave this module as dotted text (compared with the query, followed as CNAMEs, written to
                // logs and files), where a label `www.cluster.test` would equal three labels. Refused, as stub
                // resolvers that must print a name do, rather than carried as label arrays nothing here needs:
                // host names are letters, digits and hyphens, and no real server sends a dot inside a label.
                guard !message[start..<end].contains(UInt8(ascii: ".")) else { throw .dotInLabel(offset: position) }
                labels.append(String(decoding: message[start..<end], as: UTF8.self))
                position = end
            case 0xC0:
                guard position + 1 < message.count else { throw .truncated(offset: position) }
                let target = Int(length & 0x3F) << 8 | Int(message[position + 1])
                if next == nil { next = position + 2 }
                pointers += 1
                guard pointers <= maximumPointers else { throw .pointerLoop(offset: offset) }
                guard target < message.count else { throw .pointerOutOfRange(target: target, offset: position) }
                position = target
            default:
                throw .badLabelType(length, offset: position)
            }
        }
    }

    /// Case-insensitive comparison (RFC 4343), ignoring a trailing dot.
    public static func equal(_ lhs: String, _ rhs: String) -> Bool {
        func normal(_ name: String) -> String {
            (name.hasSuffix(".") ? String(name.dropLast()) : name).lowercased()
        }
        return normal(lhs) == normal(rhs)
    }
}
