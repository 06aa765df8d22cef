import TextSearch

/// xcatd's XML protocol as a statelite node speaks it (xCAT `rc.statelite` `xCATCmd`, `xcatd` `get_request` /
/// `send_response`): pure request encoding and a bounded, incremental reply parser.
///
/// The node sends `<xcatrequest><command>litefile</command></xcatrequest>` and a newline (bash's here-string) and no
/// noderange: xcatd names the node by a reverse lookup of the connection's source address. xcatd answers with
/// XML::Simple output (`NoAttr`, two-space indent), one `<xcatresponse>` per batch of plugin callbacks, each holding
/// leaf elements (`<info>`, `<error>`, `<errorcode>`, `<warning>`, `<xcatdsource>` from a service node), then a final
/// `<xcatresponse><serverdone></serverdone></xcatresponse>`. Text is XML-escaped (`&amp; &lt; &gt; &quot;`) and
/// every byte outside 0x09-0x7f has been replaced by `?`. After `serverdone` xcatd waits 15 s for another request
/// before closing, so the reader stops at `serverdone` rather than at end of stream.
public enum XcatdProtocol {
    /// The request for `command` (`litefile`, `litetree`), byte for byte what `rc.statelite` sends.
    public static func request(_ command: String) -> [UInt8] {
        Array("<xcatrequest><command>\(command)</command></xcatrequest>\n".utf8)
    }

    /// The commands a node asks xcatd at boot.
    public static let litefile = "litefile"
    public static let litetree = "litetree"

    /// The default xcatd port (`site.xcatdport`).
    public static let defaultPort = 3001

    public enum Error: BootConfigError, Equatable {
        /// More than `limit` bytes (or responses, or bytes in one element) arrived before `serverdone`.
        case tooLarge(what: String, limit: Int)
        /// Not xcatd's XML at `offset` bytes into the reply.
        case malformed(offset: Int, problem: String)
        /// The connection ended before `<serverdone>` (after `received` bytes and `responses` complete responses).
        case closedEarly(received: Int, responses: Int)
        /// xcatd answered with `<error>` elements (policy refusal, a node without os/arch/profile, ...).
        case serverError(command: String, messages: [String], code: String?)
        /// xcatd could not name the node: its reverse lookup of the node's address found no node, so the plugin
        /// answered with its usage text (an `<info>`, not an `<error>`).
        case nodeNotRecognised(command: String, usage: String)
        /// An `<info>` line that is not `NODE: ...`, or that holds a control character.
        case malformedEntry(command: String, index: Int, problem: String)
        /// Lines for two different nodes in one answer.
        case mixedNodes(command: String, first: String, other: String)

        public var description: String {
            switch self {
            case .tooLarge(let what, let limit):
                return "the xcatd reply is too large: more than \(limit) \(what)"
            case .malformed(let offset, let problem):
                return "the xcatd reply is not xcatd XML at byte \(offset): \(problem)"
            case .closedEarly(let received, let responses):
                return "xcatd closed the connection before <serverdone> (after \(received) bytes, "
                    + "\(responses) complete response\(responses == 1 ? "" : "s"))"
            case .serverError(let command, let messages, let code):
                return "xcatd refused \(command): "
                    + messages.map { quotedForMessage($0) }.joined(separator: "; ")
                    + (code.map { " (errorcode \($0))" } ?? "")
            case .nodeNotRecognised(let command, let usage):
                return "xcatd did not recognise this node for \(command): it names the node by a reverse DNS lookup "
                    + "of the node's address, and that found no xCAT node (it answered with its usage text, "
                    + "\(quotedForMessage(usage))); add the node's address to DNS or /etc/hosts on the xCAT server"
            case .malformedEntry(let command, let index, let problem):
                return "xcatd \(command) entry \(index): \(problem)"
            case .mixedNodes(let command, let first, let other):
                return "xcatd's \(command) answer names two nodes, \(first) and \(other)"
            }
        }
    }
}

/// One parsed reply: the `<xcatresponse>` elements in order.
public struct XcatdReply: Equatable, Sendable {
    public struct Element: Equatable, Sendable {
        public var name: String
        /// Entities decoded.
        public var text: String

        public init(name: String, text: String) {
            self.name = name
            self.text = text
        }
    }

    public var responses: [[Element]] = []
    /// True once `<serverdone>` was read.
    public var serverDone = false

    public init(responses: [[Element]] = [], serverDone: Bool = false) {
        self.responses = responses
        self.serverDone = serverDone
    }

    /// Every element called `name`, in order.
    public func elements(_ name: String) -> [String] {
        responses.flatMap { $0.filter { $0.name == name }.map(\.text) }
    }

    /// Parses a whole reply at once (tests, and `nodeinit plan` reading a saved reply).
    public static func parse(_ bytes: [UInt8], limits: XcatdReplyReader.Limits = .init())
        throws(XcatdProtocol.Error) -> XcatdReply
    {
        var reader = XcatdReplyReader(limits: limits)
        try reader.feed(bytes)
        return try reader.finish()
    }
}

/// Reads a reply as it arrives, keeping at most `limits.maxBytes`. `feed` parses every complete `<xcatresponse>`;
/// `isDone` turns true at `<serverdone>`, after which further bytes are ignored.
public struct XcatdReplyReader: Sendable {
    public struct Limits: Sendable, Equatable {
        /// Bytes in the whole reply, up to and including `serverdone`.
        public var maxBytes: Int
        public var maxResponses: Int
        /// Bytes in one element's text, as sent (escaped).
        public var maxElementBytes: Int

        /// 4 MiB, 100,000 responses, 64 KiB per element: a litefile of thousands of entries fits many times over.
        public init(maxBytes: Int = 4 << 20, maxResponses: Int = 100_000, maxElementBytes: Int = 64 << 10) {
            self.maxBytes = maxBytes
            self.maxResponses = maxResponses
            self.maxElementBytes = maxElementBytes
        }
    }

    public let limits: Limits
    public private(set) var reply = XcatdReply()
    /// Bytes fed so far (up to `serverdone`).
    public private(set) var received = 0
    private var pending: [UInt8] = []
    /// Offset of `pending[0]` in the reply, for messages.
    private var pendingOffset = 0

    public init(limits: Limits = .init()) {
        self.limits = limits
    }

    public var isDone: Bool { reply.serverDone }

    public mutating func feed(_ bytes: [UInt8]) throws(XcatdProtocol.Error) {
        guard !reply.serverDone else { return }
        received += bytes.count
        pending += bytes
        while !reply.serverDone {
            guard let (response, length) = try nextResponse() else { break }
            pending.removeFirst(length)
            pendingOffset += length
            reply.responses.append(response)
            if reply.responses.count > limits.maxResponses {
                throw .tooLarge(what: "responses", limit: limits.maxResponses)
            }
            if response.contains(where: { $0.name == "serverdone" }) { reply.serverDone = true }
        }
        if !reply.serverDone && received > limits.maxBytes { throw .tooLarge(what: "bytes", limit: limits.maxBytes) }
        if reply.serverDone {
            // What follows serverdone is not read (xcatd would wait for another request).
            let tail = pending.count
            received -= tail
            pending = []
            if received > limits.maxBytes { throw .tooLarge(what: "bytes", limit: limits.maxBytes) }
        }
    }

    /// The reply, once `serverdone` was read; the connection having ended first is `closedEarly`.
    public func finish() throws(XcatdProtocol.Error) -> XcatdReply {
        guard reply.serverDone else {
            // Whatever is left must at least be the start of a response: garbage is reported as such.
            var probe = Cursor(bytes: pending, base: pendingOffset)
            probe.skipWhitespace()
            if !probe.atEnd && !probe.hasPrefix(Self.open) && !Self.open.starts(with: probe.rest) {
                throw .malformed(offset: probe.offset, problem: "expected <xcatresponse>")
            }
            throw .closedEarly(received: received, responses: reply.responses.count)
        }
        return reply
    }

    static let open = Array("<xcatresponse>".utf8)
    static let close = Array("</xcatresponse>".utf8)

    /// The first complete response in `pending` and the bytes it spans (with leading blanks), or nil for more.
    private func nextResponse() throws(XcatdProtocol.Error) -> ([XcatdReply.Element], Int)? {
        var cursor = Cursor(bytes: pending, base: pendingOffset)
        cursor.skipWhitespace()
        if cursor.hasPrefix(Array("<?xml".utf8)) {
            guard let end = cursor.find(Array("?>".utf8)) else { return nil }
            cursor.position = end + 2
            cursor.skipWhitespace()
        }
        if cursor.atEnd { return nil }
        guard cursor.hasPrefix(Self.open) else {
            if Self.open.starts(with: cursor.rest) { return nil }
            throw .malformed(offset: cursor.offset, problem: "expected <xcatresponse>")
        }
        guard let end = cursor.find(Self.close) else { return nil }
        cursor.position += Self.open.count
        var elements: [XcatdReply.Element] = []
        while true {
            cursor.skipWhitespace()
            if cursor.position == end { break }
            elements.append(try element(&cursor, end: end))
        }
        return (elements, end + Self.close.count)
    }

    /// `<name>text</name>`, `<name></name>` or `<name/>`; the text holds no markup (xcatd's are leaf elements).
    private func element(_ cursor: inout Cursor, end: Int) throws(XcatdProtocol.Error) -> XcatdReply.Element {
        let start = cursor.offset
        guard cursor.next() == UInt8(ascii: "<") else {
            throw .malformed(offset: start, problem: "text outside an element")
        }
        var nameBytes: [UInt8] = []
        while cursor.position < end, let byte = cursor.peek(), Self.isNameByte(byte, first: nameBytes.isEmpty) {
            nameBytes.append(byte)
            cursor.position += 1
            if nameBytes.count > 64 { throw .malformed(offset: start, problem: "element name too long") }
        }
        guard !nameBytes.isEmpty else { throw .malformed(offset: start, problem: "expected an element name") }
        let name = String(decoding: nameBytes, as: UTF8.self)
        if cursor.hasPrefix(Array("/>".utf8)) {
            cursor.position += 2
            return .init(name: name, text: "")
        }
        guard cursor.next() == UInt8(ascii: ">") else {
            throw .malformed(offset: start, problem: "<\(name)> has attributes or is not closed (xcatd sends none)")
        }
        let textStart = cursor.position
        let closing = Array("</\(name)>".utf8)
        while cursor.position < end, cursor.peek() != UInt8(ascii: "<") { cursor.position += 1 }
        let raw = Array(cursor.bytes[textStart..<cursor.position])
        if raw.count > limits.maxElementBytes {
            throw .tooLarge(what: "bytes in one <\(name)> element", limit: limits.maxElementBytes)
        }
        guard cursor.hasPrefix(closing) else {
            throw .malformed(
                offset: cursor.offset,
                problem: cursor.position >= end || cursor.hasPrefix(Array("</".utf8))
                    ? "<\(name)> is not closed" : "<\(name)> holds markup (xcatd's elements hold text only)")
        }
        cursor.position += closing.count
        let text = try Self.decode(raw, offset: cursor.base + textStart)
        return .init(name: name, text: text)
    }

    static func isNameByte(_ byte: UInt8, first: Bool) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "_"): true
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."): !first
        default: false
        }
    }

    /// XML character data: the five named entities and numeric references (not NUL, not surrogates).
    static func decode(_ raw: [UInt8], offset: Int) throws(XcatdProtocol.Error) -> String {
        guard raw.contains(UInt8(ascii: "&")) else { return String(decoding: raw, as: UTF8.self) }
        var out: [UInt8] = []
        var index = 0
        while index < raw.count {
            let byte = raw[index]
            guard byte == UInt8(ascii: "&") else {
                out.append(byte)
                index += 1
                continue
            }
            guard let semicolon = raw[index...].prefix(12).firstIndex(of: UInt8(ascii: ";")) else {
                throw .malformed(offset: offset + index, problem: "an unterminated entity")
            }
            let entity = String(decoding: raw[(index + 1)..<semicolon], as: UTF8.self)
            switch entity {
            case "amp": out.append(UInt8(ascii: "&"))
            case "lt": out.append(UInt8(ascii: "<"))
            case "gt": out.append(UInt8(ascii: ">"))
            case "quot": out.append(UInt8(ascii: "\""))
            case "apos": out.append(UInt8(ascii: "'"))
            default:
                var digits = Substring(entity)
                guard digits.first == "#" else {
                    throw .malformed(offset: offset + index, problem: "unknown entity &\(entity);")
                }
                digits = digits.dropFirst()
                var radix = 10
                if digits.first == "x" || digits.first == "X" {
                    radix = 16
                    digits = digits.dropFirst()
                }
                guard !digits.isEmpty, let value = UInt32(digits, radix: radix), value != 0,
                    let scalar = Unicode.Scalar(value)
                else {
                    throw .malformed(offset: offset + index, problem: "bad character reference &\(entity);")
                }
                out += Array(String(Character(scalar)).utf8)
            }
            index = semicolon + 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A position in bytes, with the reply offset of `bytes[0]` for messages.
private struct Cursor {
    let bytes: [UInt8]
    let base: Int
    var position = 0

    init(bytes: [UInt8], base: Int) {
        self.bytes = bytes
        self.base = base
    }

    var offset: Int { base + position }
    var atEnd: Bool { position >= bytes.count }
    var rest: ArraySlice<UInt8> { bytes[min(position, bytes.count)...] }

    func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

    mutating func next() -> UInt8? {
        guard position < bytes.count else { return nil }
        position += 1
        return bytes[position - 1]
    }

    func hasPrefix(_ prefix: [UInt8]) -> Bool { rest.starts(with: prefix) }

    mutating func skipWhitespace() {
        while let byte = peek(), byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { position += 1 }
    }

    /// The index of the first `needle` at or after the position.
    func find(_ needle: [UInt8]) -> Int? {
        guard needle.count <= bytes.count else { return nil }
        var index = position
        while index + needle.count <= bytes.count {
            if bytes[index] == needle[0] && bytes[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}

/// The entries of one answer: the `<info>` lines with their `NODE: ` prefix taken off.
public struct XcatdAnswer: Equatable, Sendable {
    public struct Line: Equatable, Sendable {
        /// 1-based, in reply order (shown as the "line" in table errors).
        public var index: Int
        public var text: String
    }

    public var command: String
    /// The node name xcatd used (from its reverse lookup), nil when it sent no entry.
    public var node: String?
    public var lines: [Line]
    /// `<warning>` elements (a service node's version mismatch, for one).
    public var warnings: [String]

    /// The answer to `command` in `reply`: an `<error>` is `serverError`, the plugin's usage text (no node from the
    /// reverse lookup) is `nodeNotRecognised`, and every entry must be `NODE: text` for one node, without control
    /// characters.
    public static func from(_ reply: XcatdReply, command: String) throws(XcatdProtocol.Error) -> XcatdAnswer {
        let errors = reply.elements("error")
        if !errors.isEmpty {
            throw .serverError(command: command, messages: errors, code: reply.elements("errorcode").first)
        }
        var node: String? = nil
        var lines: [Line] = []
        for (offset, info) in reply.elements("info").enumerated() {
            let index = offset + 1
            if info.hasPrefix("Usage:") {
                throw .nodeNotRecognised(command: command, usage: info.splitKeepingEmpty(on: "\n").first ?? info)
            }
            if info.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                throw .malformedEntry(
                    command: command, index: index, problem: "a control character in \(quotedForMessage(info))")
            }
            guard let separator = info.range(ofBytes: ": ") else {
                throw .malformedEntry(
                    command: command, index: index, problem: "expected `NODE: ...`, got \(quotedForMessage(info))")
            }
            let name = String(info[..<separator.lowerBound])
            guard !name.isEmpty, !name.containsWhitespaceOrControl else {
                throw .malformedEntry(
                    command: command, index: index, problem: "no node name in \(quotedForMessage(info))")
            }
            if let node, node != name { throw .mixedNodes(command: command, first: node, other: name) }
            node = name
            lines.append(Line(index: index, text: String(info[separator.upperBound...]).trimmingASCIIWhitespace()))
        }
        return XcatdAnswer(command: command, node: node, lines: lines, warnings: reply.elements("warning"))
    }

    /// The entries as table text for `BootInputs.Table(format: .xcatd)`: one `text` per line, in order.
    public var tableText: String { lines.map(\.text).joined(separator: "\n") }
}
