// JSON shapes for the plan's enums with payloads: `{"<case>": <payload>}` with the payload encoded directly
// (Swift's synthesized form would nest it under `_0`), and device specs as their command-line text.

private struct CaseKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

private struct Empty: Codable {}

private func singleCase(_ decoder: any Decoder) throws -> (KeyedDecodingContainer<CaseKey>, CaseKey) {
    let container = try decoder.container(keyedBy: CaseKey.self)
    guard container.allKeys.count == 1, let key = container.allKeys.first else {
        throw DecodingError.dataCorrupted(
            .init(codingPath: decoder.codingPath, debugDescription: "expected exactly one case key"))
    }
    return (container, key)
}

private func unknownCase(_ key: CaseKey, _ decoder: any Decoder) -> DecodingError {
    .dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown case \(key.stringValue)"))
}

extension OverlayPlan {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CaseKey.self)
        switch self {
        case .none: try container.encode(Empty(), forKey: CaseKey("none"))
        case .tmpfs(let value): try container.encode(value, forKey: CaseKey("tmpfs"))
        case .device(let value): try container.encode(value, forKey: CaseKey("device"))
        case .waltInit(let value): try container.encode(value, forKey: CaseKey("waltInit"))
        }
    }

    public init(from decoder: any Decoder) throws {
        let (container, key) = try singleCase(decoder)
        switch key.stringValue {
        case "none": self = .none
        case "tmpfs": self = .tmpfs(try container.decode(TmpfsOverlay.self, forKey: key))
        case "device": self = .device(try container.decode(DeviceOverlay.self, forKey: key))
        case "waltInit": self = .waltInit(try container.decode(WaltInitOverlay.self, forKey: key))
        default: throw unknownCase(key, decoder)
        }
    }
}

extension AddressMethod {
    private static let simple: [(String, AddressMethod)] = [
        ("dhcp", .dhcp), ("dhcp6", .dhcp6), ("auto6", .auto6), ("link6", .link6), ("either6", .either6),
        ("unmanaged", .unmanaged),
    ]

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CaseKey.self)
        if case .static(let address) = self {
            try container.encode(address, forKey: CaseKey("static"))
            return
        }
        let name = Self.simple.first { $0.1 == self }?.0 ?? "unmanaged"
        try container.encode(Empty(), forKey: CaseKey(name))
    }

    public init(from decoder: any Decoder) throws {
        let (container, key) = try singleCase(decoder)
        if key.stringValue == "static" {
            self = .static(try container.decode(StaticAddress.self, forKey: key))
        } else if let match = Self.simple.first(where: { $0.0 == key.stringValue }) {
            self = match.1
        } else {
            throw unknownCase(key, decoder)
        }
    }
}

extension InterfaceSelector {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CaseKey.self)
        switch self {
        case .name(let name): try container.encode(name, forKey: CaseKey("name"))
        case .mac(let mac): try container.encode(mac, forKey: CaseKey("mac"))
        case .anyWithCarrier: try container.encode(Empty(), forKey: CaseKey("anyWithCarrier"))
        }
    }

    public init(from decoder: any Decoder) throws {
        let (container, key) = try singleCase(decoder)
        switch key.stringValue {
        case "name": self = .name(try container.decode(String.self, forKey: key))
        case "mac": self = .mac(try container.decode(MACAddress.self, forKey: key))
        case "anyWithCarrier": self = .anyWithCarrier
        default: throw unknownCase(key, decoder)
        }
    }
}

extension DeviceSpec {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            self = try DeviceSpec(parsing: text, parameter: "device")
        } catch {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }
}
