/// Byte-level netlink framing: a writer that appends host-order integers and 4-byte-aligned attributes, and a
/// reader whose every access is bounds-checked (kernel replies are parsed without trusting their lengths).

/// Appends integers in host byte order (netlink's order) and attributes padded to 4 bytes.
public struct NetlinkWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func append(_ value: UInt8) { bytes.append(value) }

    public mutating func append(_ value: UInt16) { withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) } }

    public mutating func append(_ value: UInt32) { withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) } }

    public mutating func append(_ value: Int32) { withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) } }

    public mutating func append(contentsOf data: [UInt8]) { bytes.append(contentsOf: data) }

    public mutating func padToAlignment() {
        while bytes.count % 4 != 0 { bytes.append(0) }
    }

    /// One `struct rtattr` (length, type, payload) followed by padding.
    public mutating func appendAttribute(type: UInt16, payload: [UInt8]) {
        append(UInt16(truncatingIfNeeded: 4 + payload.count))
        append(type)
        append(contentsOf: payload)
        padToAlignment()
    }

    public mutating func appendAttribute(type: UInt16, uint32 value: UInt32) {
        appendAttribute(type: type, payload: withUnsafeBytes(of: value) { Array($0) })
    }

    /// A NUL-terminated string attribute (IFLA_IFNAME and friends).
    public mutating func appendAttribute(type: UInt16, string: String) {
        appendAttribute(type: type, payload: Array(string.utf8) + [0])
    }

    /// A whole message: `struct nlmsghdr` with its length filled in, then `body` (fixed header + attributes).
    public static func message(type: UInt16, flags: UInt16, sequence: UInt32, body: [UInt8]) -> [UInt8] {
        var writer = NetlinkWriter()
        writer.append(UInt32(truncatingIfNeeded: NetlinkConstants.headerSize + body.count))
        writer.append(type)
        writer.append(flags)
        writer.append(sequence)
        writer.append(UInt32(0))  // port id 0: the kernel fills in ours.
        writer.append(contentsOf: body)
        writer.padToAlignment()
        return writer.bytes
    }
}

/// Bounds-checked reads from a byte array: every accessor returns nil past the end.
public struct NetlinkReader: Sendable {
    public let bytes: [UInt8]

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public func uint8(at offset: Int) -> UInt8? {
        guard offset >= 0, offset < bytes.count else { return nil }
        return bytes[offset]
    }

    public func uint16(at offset: Int) -> UInt16? {
        guard let raw = slice(at: offset, count: 2) else { return nil }
        return raw.withUnsafeBytes { $0.loadUnaligned(as: UInt16.self) }
    }

    public func uint32(at offset: Int) -> UInt32? {
        guard let raw = slice(at: offset, count: 4) else { return nil }
        return raw.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
    }

    public func int32(at offset: Int) -> Int32? {
        uint32(at: offset).map { Int32(bitPattern: $0) }
    }

    public func slice(at offset: Int, count: Int) -> [UInt8]? {
        guard offset >= 0, count >= 0, offset <= bytes.count, count <= bytes.count - offset else { return nil }
        return Array(bytes[offset..<(offset + count)])
    }
}

/// One parsed netlink message: header fields and the payload after the 16-byte header.
public struct NetlinkMessage: Sendable, Hashable {
    public var type: UInt16
    public var flags: UInt16
    public var sequence: UInt32
    public var portID: UInt32
    public var payload: [UInt8]

    public enum ParseError: Swift.Error, Hashable, Sendable, CustomStringConvertible {
        case truncatedHeader(offset: Int, available: Int)
        case badLength(offset: Int, declared: Int, available: Int)

        public var description: String {
            switch self {
            case .truncatedHeader(let offset, let available):
                "netlink: truncated message header at byte \(offset) (\(available) bytes left)"
            case .badLength(let offset, let declared, let available):
                "netlink: message at byte \(offset) declares \(declared) bytes but \(available) are left"
            }
        }
    }

    /// Splits one receive buffer into messages (a dump reply packs many into one datagram).
    public static func parseAll(_ buffer: [UInt8]) throws(ParseError) -> [NetlinkMessage] {
        let reader = NetlinkReader(buffer)
        var messages: [NetlinkMessage] = []
        var offset = 0
        while offset < buffer.count {
            let available = buffer.count - offset
            guard available >= NetlinkConstants.headerSize, let length32 = reader.uint32(at: offset),
                let type = reader.uint16(at: offset + 4), let flags = reader.uint16(at: offset + 6),
                let sequence = reader.uint32(at: offset + 8), let port = reader.uint32(at: offset + 12)
            else { throw .truncatedHeader(offset: offset, available: available) }
            let length = Int(length32)
            guard length >= NetlinkConstants.headerSize, length <= available,
                let payload = reader.slice(
                    at: offset + NetlinkConstants.headerSize, count: length - NetlinkConstants.headerSize)
            else { throw .badLength(offset: offset, declared: length, available: available) }
            messages.append(
                NetlinkMessage(type: type, flags: flags, sequence: sequence, portID: port, payload: payload))
            let aligned = (length + 3) & ~3
            offset += min(aligned, available)
        }
        return messages
    }

    /// Attributes (`struct rtattr`) found in `payload` after a fixed header of `headerSize` bytes. Malformed tails
    /// end the walk rather than trap: everything before them is returned.
    public func attributes(afterFixedHeader headerSize: Int) -> [UInt16: [UInt8]] {
        NetlinkMessage.attributes(in: payload, from: headerSize)
    }

    public static func attributes(in bytes: [UInt8], from start: Int) -> [UInt16: [UInt8]] {
        let reader = NetlinkReader(bytes)
        var result: [UInt16: [UInt8]] = [:]
        var offset = start
        while offset + 4 <= bytes.count {
            guard let length16 = reader.uint16(at: offset), let type = reader.uint16(at: offset + 2) else { break }
            let length = Int(length16)
            guard length >= 4, let payload = reader.slice(at: offset + 4, count: length - 4) else { break }
            // NLA_F_NESTED and NLA_F_NET_BYTEORDER live in the top two bits of the type.
            let plainType = type & 0x3FFF
            if result[plainType] == nil { result[plainType] = payload }
            offset += (length + 3) & ~3
        }
        return result
    }
}
