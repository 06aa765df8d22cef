import NodeSys

/// Record types this resolver asks for or follows.
public enum DNSRecordType: UInt16, Sendable {
    case a = 1
    case cname = 5
    case aaaa = 28
}

/// Response codes (RFC 1035 section 4.1.1).
public enum DNSResponseCode: UInt8, Sendable, CustomStringConvertible {
    case noError = 0, formatError = 1, serverFailure = 2, nameError = 3, notImplemented = 4, refused = 5

    public var description: String {
        switch self {
        case .noError: "NOERROR"
        case .formatError: "FORMERR"
        case .serverFailure: "SERVFAIL"
        case .nameError: "NXDOMAIN"
        case .notImplemented: "NOTIMP"
        case .refused: "REFUSED"
        }
    }
}

public struct DNSQuestion: Sendable, Hashable {
    public var name: String
    public var type: UInt16
    public var recordClass: UInt16

    public init(name: String, type: UInt16, recordClass: UInt16 = 1) {
        self.name = name
        self.type = type
        self.recordClass = recordClass
    }
}

public struct DNSRecord: Sendable, Hashable {
    public enum Data: Sendable, Hashable {
        case a(IPv4Address)
        case aaaa(IPv6Address)
        case cname(String)
        case other([UInt8])
    }

    public var name: String
    public var type: UInt16
    public var recordClass: UInt16
    public var ttl: UInt32
    public var data: Data

    public init(name: String, type: UInt16, recordClass: UInt16 = 1, ttl: UInt32, data: Data) {
        self.name = name
        self.type = type
        self.recordClass = recordClass
        self.ttl = ttl
        self.data = data
    }
}

/// A DNS message: header, questions and the answer section (authority and additional records are not needed by a
/// stub resolver and are skipped). Encoding and decoding are pure; any input decodes to a value or an error.
public struct DNSMessage: Sendable, Hashable {
    public enum DecodeError: Swift.Error, Hashable, Sendable, CustomStringConvertible {
        case tooShort(length: Int)
        case truncatedRecord(section: String, index: Int, offset: Int)
        case badName(DNSName.Error)
        case badRecordData(type: UInt16, length: Int)

        public var description: String {
            switch self {
            case .tooShort(let length): "dns: message of \(length) bytes is shorter than its 12-byte header"
            case .truncatedRecord(let section, let index, let offset):
                "dns: \(section) record \(index) at byte \(offset) runs past the end"
            case .badName(let error): "\(error)"
            case .badRecordData(let type, let length): "dns: record of type \(type) has \(length) data bytes"
            }
        }
    }

    public var id: UInt16
    public var flags: UInt16
    public var questions: [DNSQuestion]
    public var answers: [DNSRecord]

    public init(id: UInt16, flags: UInt16, questions: [DNSQuestion], answers: [DNSRecord] = []) {
        self.id = id
        self.flags = flags
        self.questions = questions
        self.answers = answers
    }

    public static let recursionDesiredFlag: UInt16 = 0x0100
    public var isResponse: Bool { flags & 0x8000 != 0 }
    public var isTruncated: Bool { flags & 0x0200 != 0 }
    public var responseCode: UInt8 { UInt8(flags & 0x000F) }

    /// A recursive query for one name and type.
    public static func query(id: UInt16, name: String, type: DNSRecordType) throws(DNSName.Error) -> [UInt8] {
        var bytes: [UInt8] = []
        appendBigEndian(id, to: &bytes)
        appendBigEndian(recursionDesiredFlag, to: &bytes)
        appendBigEndian(UInt16(1), to: &bytes)  // QDCOUNT
        bytes.append(contentsOf: [0, 0, 0, 0, 0, 0])  // ANCOUNT NSCOUNT ARCOUNT
        bytes.append(contentsOf: try DNSName.encode(name))
        appendBigEndian(type.rawValue, to: &bytes)
        appendBigEndian(UInt16(1), to: &bytes)  // class IN
        return bytes
    }

    /// Encodes without compression (used by tests to build server replies).
    public func encoded() throws(DNSName.Error) -> [UInt8] {
        var bytes: [UInt8] = []
        appendBigEndian(id, to: &bytes)
        appendBigEndian(flags, to: &bytes)
        appendBigEndian(UInt16(clamping: questions.count), to: &bytes)
        appendBigEndian(UInt16(clamping: answers.count), to: &bytes)
        bytes.append(contentsOf: [0, 0, 0, 0])
        for question in questions {
            bytes.append(contentsOf: try DNSName.encode(question.name))
            appendBigEndian(question.type, to: &bytes)
            appendBigEndian(question.recordClass, to: &bytes)
        }
        for record in answers {
            bytes.append(contentsOf: try DNSName.encode(record.name))
            appendBigEndian(record.type, to: &bytes)
            appendBigEndian(record.recordClass, to: &bytes)
            appendBigEndian(UInt16(record.ttl >> 16), to: &bytes)
            appendBigEndian(UInt16(record.ttl & 0xFFFF), to: &bytes)
            let data: [UInt8]
            switch record.data {
            case .a(let address): data = address.bytes
            case .aaaa(let address): data = address.bytes
            case .cname(let name): data = try DNSName.encode(name)
            case .other(let raw): data = raw
            }
            appendBigEndian(UInt16(clamping: data.count), to: &bytes)
            bytes.append(contentsOf: data)
        }
        return bytes
    }

    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> DNSMessage {
        guard bytes.count >= 12 else { throw .tooShort(length: bytes.count) }
        let reader = BigEndianReader(bytes)
        var message = DNSMessage(id: reader.uint16(0) ?? 0, flags: reader.uint16(2) ?? 0, questions: [])
        let questionCount = Int(reader.uint16(4) ?? 0)
        let answerCount = Int(reader.uint16(6) ?? 0)
        var offset = 12
        for index in 0..<questionCount {
            let (name, next) = try readName(bytes, at: offset)
            guard let type = reader.uint16(next), let recordClass = reader.uint16(next + 2) else {
                throw .truncatedRecord(section: "question", index: index, offset: offset)
            }
            message.questions.append(DNSQuestion(name: name, type: type, recordClass: recordClass))
            offset = next + 4
        }
        for index in 0..<answerCount {
            let (name, next) = try readName(bytes, at: offset)
            guard let type = reader.uint16(next), let recordClass = reader.uint16(next + 2),
                let ttl = reader.uint32(next + 4), let length = reader.uint16(next + 8)
            else { throw .truncatedRecord(section: "answer", index: index, offset: offset) }
            let dataStart = next + 10
            let dataEnd = dataStart + Int(length)
            guard dataEnd <= bytes.count else {
                throw .truncatedRecord(section: "answer", index: index, offset: offset)
            }
            let raw = Array(bytes[dataStart..<dataEnd])
            let data: DNSRecord.Data
            switch (type, recordClass) {
            case (DNSRecordType.a.rawValue, 1):
                guard let address = IPv4Address(bytes: raw) else { throw .badRecordData(type: type, length: raw.count) }
                data = .a(address)
            case (DNSRecordType.aaaa.rawValue, 1):
                guard let address = IPv6Address(bytes: raw) else { throw .badRecordData(type: type, length: raw.count) }
                data = .aaaa(address)
            case (DNSRecordType.cname.rawValue, _):
                // The target may be compressed against the whole message, so it is read in place.
                let (target, targetEnd) = try readName(bytes, at: dataStart)
                guard targetEnd <= dataEnd else { throw .badRecordData(type: type, length: raw.count) }
                data = .cname(target)
            default:
                data = .other(raw)
            }
            message.answers.append(DNSRecord(name: name, type: type, recordClass: recordClass, ttl: ttl, data: data))
            offset = dataEnd
        }
        return message
    }

    private static func readName(_ bytes: [UInt8], at offset: Int) throws(DecodeError) -> (String, Int) {
        do {
            return try DNSName.decode(bytes, at: offset)
        } catch {
            throw .badName(error)
        }
    }
}

struct BigEndianReader {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func uint16(_ offset: Int) -> UInt16? {
        guard offset >= 0, offset <= bytes.count - 2 else { return nil }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    func uint32(_ offset: Int) -> UInt32? {
        guard let high = uint16(offset), let low = uint16(offset + 2) else { return nil }
        return UInt32(high) << 16 | UInt32(low)
    }
}

func appendBigEndian(_ value: UInt16, to bytes: inout [UInt8]) {
    bytes.append(UInt8(value >> 8))
    bytes.append(UInt8(value & 0xFF))
}
