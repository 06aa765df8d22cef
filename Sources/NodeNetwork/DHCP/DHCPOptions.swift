import NodeSys

/// DHCP/BOOTP option codes this client sends or reads (RFC 2132 and later).
public enum DHCPOptionCode {
    public static let pad: UInt8 = 0
    public static let subnetMask: UInt8 = 1
    public static let router: UInt8 = 3
    public static let domainNameServer: UInt8 = 6
    public static let hostName: UInt8 = 12
    public static let domainName: UInt8 = 15
    public static let rootPath: UInt8 = 17
    public static let interfaceMTU: UInt8 = 26
    public static let broadcastAddress: UInt8 = 28
    public static let requestedAddress: UInt8 = 50
    public static let leaseTime: UInt8 = 51
    public static let overload: UInt8 = 52
    public static let messageType: UInt8 = 53
    public static let serverIdentifier: UInt8 = 54
    public static let parameterRequestList: UInt8 = 55
    public static let message: UInt8 = 56
    public static let maximumMessageSize: UInt8 = 57
    public static let renewalTime: UInt8 = 58
    public static let rebindingTime: UInt8 = 59
    public static let vendorClassIdentifier: UInt8 = 60
    public static let clientIdentifier: UInt8 = 61
    public static let tftpServerName: UInt8 = 66
    public static let bootFileName: UInt8 = 67
    public static let domainSearch: UInt8 = 119
    public static let classlessStaticRoute: UInt8 = 121
    public static let end: UInt8 = 255
}

/// DHCP message types (option 53).
public enum DHCPMessageType: UInt8, Sendable, CustomStringConvertible {
    case discover = 1, offer, request, decline, ack, nak, release, inform

    public var description: String {
        switch self {
        case .discover: "DHCPDISCOVER"
        case .offer: "DHCPOFFER"
        case .request: "DHCPREQUEST"
        case .decline: "DHCPDECLINE"
        case .ack: "DHCPACK"
        case .nak: "DHCPNAK"
        case .release: "DHCPRELEASE"
        case .inform: "DHCPINFORM"
        }
    }
}

/// The options of one message, in order of first appearance. A code that appears several times is stored once with
/// its values concatenated, as RFC 3396 requires for long options split across instances.
public struct DHCPOptions: Sendable, Hashable {
    public private(set) var entries: [(code: UInt8, data: [UInt8])] = []

    public init() {}

    public init(_ entries: [(code: UInt8, data: [UInt8])]) {
        for entry in entries { append(code: entry.code, data: entry.data) }
    }

    public static func == (lhs: DHCPOptions, rhs: DHCPOptions) -> Bool {
        lhs.entries.count == rhs.entries.count
            && zip(lhs.entries, rhs.entries).allSatisfy { $0.code == $1.code && $0.data == $1.data }
    }

    public func hash(into hasher: inout Hasher) {
        for entry in entries {
            hasher.combine(entry.code)
            hasher.combine(entry.data)
        }
    }

    /// Adds data for `code`, concatenating onto an earlier instance of the same code.
    public mutating func append(code: UInt8, data: [UInt8]) {
        if let index = entries.firstIndex(where: { $0.code == code }) {
            entries[index].data.append(contentsOf: data)
        } else {
            entries.append((code, data))
        }
    }

    /// Replaces (or adds) `code`.
    public mutating func set(code: UInt8, data: [UInt8]) {
        if let index = entries.firstIndex(where: { $0.code == code }) {
            entries[index].data = data
        } else {
            entries.append((code, data))
        }
    }

    public subscript(code: UInt8) -> [UInt8]? { entries.first(where: { $0.code == code })?.data }

    // MARK: Typed readers (nil when absent or the wrong size)

    public var messageType: DHCPMessageType? {
        guard let data = self[DHCPOptionCode.messageType], data.count == 1, let byte = data.first else { return nil }
        return DHCPMessageType(rawValue: byte)
    }

    public var subnetMask: IPv4Address? { address(DHCPOptionCode.subnetMask) }
    public var routers: [IPv4Address] { addresses(DHCPOptionCode.router) }
    public var domainNameServers: [IPv4Address] { addresses(DHCPOptionCode.domainNameServer) }
    public var hostName: String? { text(DHCPOptionCode.hostName) }
    public var domainName: String? { text(DHCPOptionCode.domainName) }
    public var rootPath: String? { text(DHCPOptionCode.rootPath) }
    public var serverMessage: String? { text(DHCPOptionCode.message) }
    public var tftpServerName: String? { text(DHCPOptionCode.tftpServerName) }
    public var bootFileName: String? { text(DHCPOptionCode.bootFileName) }
    public var broadcastAddress: IPv4Address? { address(DHCPOptionCode.broadcastAddress) }
    public var requestedAddress: IPv4Address? { address(DHCPOptionCode.requestedAddress) }
    public var serverIdentifier: IPv4Address? { address(DHCPOptionCode.serverIdentifier) }
    public var leaseTime: UInt32? { uint32(DHCPOptionCode.leaseTime) }
    public var renewalTime: UInt32? { uint32(DHCPOptionCode.renewalTime) }
    public var rebindingTime: UInt32? { uint32(DHCPOptionCode.rebindingTime) }
    public var clientIdentifier: [UInt8]? { self[DHCPOptionCode.clientIdentifier] }
    public var parameterRequestList: [UInt8]? { self[DHCPOptionCode.parameterRequestList] }

    /// Option 26; values below 68 (the IPv4 minimum) are ignored as bogus.
    public var interfaceMTU: UInt16? {
        guard let data = self[DHCPOptionCode.interfaceMTU], data.count == 2 else { return nil }
        let value = UInt16(data[0]) << 8 | UInt16(data[1])
        return value >= 68 ? value : nil
    }

    public var maximumMessageSize: UInt16? {
        guard let data = self[DHCPOptionCode.maximumMessageSize], data.count == 2 else { return nil }
        return UInt16(data[0]) << 8 | UInt16(data[1])
    }

    /// Option 119 (RFC 3397): DNS-encoded names whose compression pointers are offsets into the option's own
    /// (concatenated) data. Nil when absent or malformed.
    public var domainSearch: [String]? {
        guard let data = self[DHCPOptionCode.domainSearch] else { return nil }
        var names: [String] = []
        var offset = 0
        while offset < data.count {
            guard let (name, next) = try? DNSName.decode(data, at: offset), next > offset else { return nil }
            if !name.isEmpty { names.append(name) }
            offset = next
        }
        return names
    }

    /// Option 121 (RFC 3442): nil when absent or malformed (the RFC says to ignore a malformed option).
    public var classlessStaticRoutes: [DHCPClasslessRoute]? {
        guard let data = self[DHCPOptionCode.classlessStaticRoute] else { return nil }
        var routes: [DHCPClasslessRoute] = []
        var offset = 0
        while offset < data.count {
            let width = Int(data[offset])
            guard width <= 32 else { return nil }
            let significant = (width + 7) / 8
            guard data.count - offset - 1 >= significant + 4 else { return nil }
            var destination: UInt32 = 0
            for index in 0..<4 {
                destination <<= 8
                if index < significant { destination |= UInt32(data[offset + 1 + index]) }
            }
            let routerStart = offset + 1 + significant
            guard let router = IPv4Address(bytes: data[routerStart..<(routerStart + 4)]) else { return nil }
            routes.append(
                DHCPClasslessRoute(
                    destination: IPv4Address(value: destination).masked(prefixLength: width), prefixLength: width,
                    router: router))
            offset = routerStart + 4
        }
        return routes
    }

    /// Option 52: 1 = `file` holds options, 2 = `sname` does, 3 = both.
    var overload: UInt8? {
        guard let data = self[DHCPOptionCode.overload], data.count == 1 else { return nil }
        return data.first
    }

    private func address(_ code: UInt8) -> IPv4Address? {
        guard let data = self[code] else { return nil }
        return IPv4Address(bytes: data)
    }

    /// A list of addresses; a length that is not a multiple of 4 drops the trailing bytes.
    private func addresses(_ code: UInt8) -> [IPv4Address] {
        guard let data = self[code] else { return [] }
        return stride(from: 0, to: data.count - data.count % 4, by: 4).compactMap {
            IPv4Address(bytes: data[$0..<($0 + 4)])
        }
    }

    private func uint32(_ code: UInt8) -> UInt32? {
        guard let data = self[code], data.count == 4 else { return nil }
        return data.reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// Text options: servers often NUL-terminate them; the value ends at the first NUL. Empty text reads as absent.
    private func text(_ code: UInt8) -> String? {
        guard let data = self[code] else { return nil }
        let end = data.firstIndex(of: 0) ?? data.count
        let value = String(decoding: data[..<end], as: UTF8.self)
        return value.isEmpty ? nil : value
    }

    // MARK: Typed writers

    public mutating func set(messageType: DHCPMessageType) {
        set(code: DHCPOptionCode.messageType, data: [messageType.rawValue])
    }
    public mutating func set(code: UInt8, address: IPv4Address) { set(code: code, data: address.bytes) }
    public mutating func set(code: UInt8, text: String) { set(code: code, data: Array(text.utf8)) }
    public mutating func set(code: UInt8, uint16 value: UInt16) {
        set(code: code, data: [UInt8(value >> 8), UInt8(value & 0xFF)])
    }
    public mutating func set(code: UInt8, uint32 value: UInt32) {
        set(
            code: code,
            data: [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)])
    }
}

/// One option-121 route; a router of 0.0.0.0 means the destination is on the link.
public struct DHCPClasslessRoute: Sendable, Hashable, CustomStringConvertible {
    public var destination: IPv4Address
    public var prefixLength: Int
    public var router: IPv4Address

    public init(destination: IPv4Address, prefixLength: Int, router: IPv4Address) {
        self.destination = destination
        self.prefixLength = prefixLength
        self.router = router
    }

    public var description: String { "\(destination)/\(prefixLength) via \(router)" }
}
