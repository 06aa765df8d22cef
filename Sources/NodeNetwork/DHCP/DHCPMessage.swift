import NodeSys

/// A BOOTP/DHCP message (RFC 2131 section 2): a 236-byte fixed part, the magic cookie, then options.
/// Encoding and decoding are pure; decoding arbitrary bytes returns a value or a `DecodeError`, never traps.
public struct DHCPMessage: Sendable, Hashable {
    public enum DecodeError: Swift.Error, Hashable, Sendable, CustomStringConvertible {
        case tooShort(length: Int)
        case badMagicCookie([UInt8])
        case truncatedOption(code: UInt8, offset: Int)
        case badHardwareAddressLength(UInt8)

        public var description: String {
            switch self {
            case .tooShort(let length): "dhcp: message of \(length) bytes is shorter than the 240-byte minimum"
            case .badMagicCookie(let bytes): "dhcp: bad magic cookie \(bytes.map { String($0) }.joined(separator: "."))"
            case .truncatedOption(let code, let offset): "dhcp: option \(code) at byte \(offset) runs past the end"
            case .badHardwareAddressLength(let length): "dhcp: hardware address length \(length) exceeds 16"
            }
        }
    }

    public static let bootRequest: UInt8 = 1
    public static let bootReply: UInt8 = 2
    /// Ask the server to broadcast its replies: before an address is configured the kernel drops unicast ones.
    public static let broadcastFlag: UInt16 = 0x8000
    static let magicCookie: [UInt8] = [99, 130, 83, 99]
    static let fixedLength = 236
    /// BOOTP's minimum message size; some relays and old servers drop anything shorter.
    static let minimumEncodedLength = 300

    public var operation: UInt8
    public var hardwareType: UInt8 = 1
    public var hardwareAddressLength: UInt8 = 6
    public var hops: UInt8 = 0
    public var transactionID: UInt32
    public var secondsElapsed: UInt16 = 0
    public var flags: UInt16 = 0
    public var clientAddress: IPv4Address = .any
    public var yourAddress: IPv4Address = .any
    /// `siaddr`: the next server in the boot process (dracut's `next-server`).
    public var serverAddress: IPv4Address = .any
    public var relayAddress: IPv4Address = .any
    /// The first `hardwareAddressLength` bytes of `chaddr`.
    public var clientHardwareAddress: [UInt8] = []
    /// `sname`, unless option 52 put options there.
    public var serverName: String = ""
    /// `file`, unless option 52 put options there.
    public var bootFile: String = ""
    public var options = DHCPOptions()

    public init(operation: UInt8, transactionID: UInt32) {
        self.operation = operation
        self.transactionID = transactionID
    }

    // MARK: Encoding

    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.minimumEncodedLength)
        bytes.append(operation)
        bytes.append(hardwareType)
        bytes.append(UInt8(min(Int(hardwareAddressLength), 16)))
        bytes.append(hops)
        appendBigEndian(transactionID, to: &bytes)
        bytes.append(UInt8(secondsElapsed >> 8))
        bytes.append(UInt8(secondsElapsed & 0xFF))
        bytes.append(UInt8(flags >> 8))
        bytes.append(UInt8(flags & 0xFF))
        for address in [clientAddress, yourAddress, serverAddress, relayAddress] {
            bytes.append(contentsOf: address.bytes)
        }
        bytes.append(contentsOf: Self.fixedField(clientHardwareAddress, length: 16))
        bytes.append(contentsOf: Self.fixedField(Array(serverName.utf8), length: 64))
        bytes.append(contentsOf: Self.fixedField(Array(bootFile.utf8), length: 128))
        bytes.append(contentsOf: Self.magicCookie)
        for entry in options.entries where entry.code != DHCPOptionCode.pad && entry.code != DHCPOptionCode.end {
            // Values over 255 bytes are split into consecutive instances (RFC 3396).
            var remaining = entry.data[...]
            repeat {
                let chunk = remaining.prefix(255)
                bytes.append(entry.code)
                bytes.append(UInt8(chunk.count))
                bytes.append(contentsOf: chunk)
                remaining = remaining.dropFirst(chunk.count)
            } while !remaining.isEmpty
        }
        bytes.append(DHCPOptionCode.end)
        while bytes.count < Self.minimumEncodedLength { bytes.append(DHCPOptionCode.pad) }
        return bytes
    }

    private static func fixedField(_ value: [UInt8], length: Int) -> [UInt8] {
        let head = Array(value.prefix(length))
        return head + [UInt8](repeating: 0, count: length - head.count)
    }

    // MARK: Decoding

    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> DHCPMessage {
        guard bytes.count >= fixedLength + magicCookie.count else { throw .tooShort(length: bytes.count) }
        let cookie = Array(bytes[fixedLength..<(fixedLength + 4)])
        guard cookie == magicCookie else { throw .badMagicCookie(cookie) }
        guard bytes[2] <= 16 else { throw .badHardwareAddressLength(bytes[2]) }
        var message = DHCPMessage(operation: bytes[0], transactionID: bigEndian32(bytes, 4))
        message.hardwareType = bytes[1]
        message.hardwareAddressLength = bytes[2]
        message.hops = bytes[3]
        message.secondsElapsed = UInt16(bytes[8]) << 8 | UInt16(bytes[9])
        message.flags = UInt16(bytes[10]) << 8 | UInt16(bytes[11])
        message.clientAddress = IPv4Address(value: bigEndian32(bytes, 12))
        message.yourAddress = IPv4Address(value: bigEndian32(bytes, 16))
        message.serverAddress = IPv4Address(value: bigEndian32(bytes, 20))
        message.relayAddress = IPv4Address(value: bigEndian32(bytes, 24))
        message.clientHardwareAddress = Array(bytes[28..<(28 + Int(bytes[2]))])
        let snameField = Array(bytes[44..<108])
        let fileField = Array(bytes[108..<236])

        var options = DHCPOptions()
        try parseOptions(bytes, from: fixedLength + 4, to: bytes.count, into: &options)
        let overload = options.overload ?? 0
        // RFC 2131 4.1: options in `file` come before those in `sname`.
        if overload & 1 != 0 { try parseOptions(fileField, from: 0, to: fileField.count, into: &options) }
        if overload & 2 != 0 { try parseOptions(snameField, from: 0, to: snameField.count, into: &options) }
        if overload & 2 == 0 { message.serverName = cString(snameField) }
        if overload & 1 == 0 { message.bootFile = cString(fileField) }
        message.options = options
        return message
    }

    /// Walks code/length/value triples until End or the end of the area. Pad bytes are skipped.
    private static func parseOptions(
        _ bytes: [UInt8], from start: Int, to end: Int, into options: inout DHCPOptions
    ) throws(DecodeError) {
        var offset = start
        while offset < end {
            let code = bytes[offset]
            if code == DHCPOptionCode.end { return }
            if code == DHCPOptionCode.pad {
                offset += 1
                continue
            }
            guard offset + 1 < end else { throw .truncatedOption(code: code, offset: offset) }
            let length = Int(bytes[offset + 1])
            guard length <= end - offset - 2 else { throw .truncatedOption(code: code, offset: offset) }
            options.append(code: code, data: Array(bytes[(offset + 2)..<(offset + 2 + length)]))
            offset += 2 + length
        }
    }

    private static func cString(_ bytes: [UInt8]) -> String {
        let end = bytes.firstIndex(of: 0) ?? bytes.count
        return String(decoding: bytes[..<end], as: UTF8.self)
    }

    private static func bigEndian32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        // Callers check the length first; the guard keeps a wrong caller from trapping.
        guard offset >= 0, offset + 4 <= bytes.count else { return 0 }
        return UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8
            | UInt32(bytes[offset + 3])
    }
}

func appendBigEndian(_ value: UInt32, to bytes: inout [UInt8]) {
    bytes.append(UInt8(value >> 24))
    bytes.append(UInt8((value >> 16) & 0xFF))
    bytes.append(UInt8((value >> 8) & 0xFF))
    bytes.append(UInt8(value & 0xFF))
}
