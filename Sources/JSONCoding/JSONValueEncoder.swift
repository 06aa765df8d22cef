/// Encodes `Encodable` values as JSON without Foundation: the node's `/init` links no FoundationEssentials (its
/// JSONEncoder would bring several megabytes into every initramfs). Optional members left nil are omitted, as
/// Foundation's encoder does; `JSONCoding.encode` then writes the text.
public enum JSONCoding {
    public static func value<T: Encodable>(_ value: T) throws -> JSONValue {
        let root = EncodingNode()
        try value.encode(to: ValueEncoder(node: root, codingPath: []))
        return root.value
    }

    /// `value` as JSON bytes: sorted keys unless told otherwise, compact unless `pretty`.
    public static func encode<T: Encodable>(_ value: T, pretty: Bool = false, sortedKeys: Bool = true) throws
        -> [UInt8]
    {
        JSONWriter(sortedKeys: sortedKeys, prettyPrinted: pretty).bytes(try Self.value(value))
    }

    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], parser: JSONParser = JSONParser())
        throws -> T
    {
        try T(from: ValueDecoder(value: try parser.parse(bytes), codingPath: []))
    }

    public static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try T(from: ValueDecoder(value: value, codingPath: []))
    }
}

/// A value under construction: containers hand out child nodes and fill them later, as `Encoder` requires.
final class EncodingNode {
    enum Storage {
        case empty
        case leaf(JSONValue)
        case array([EncodingNode])
        case object([(String, EncodingNode)])
    }
    var storage: Storage = .empty

    var value: JSONValue {
        switch storage {
        case .empty: return .object([])
        case .leaf(let value): return value
        case .array(let nodes): return .array(nodes.map(\.value))
        case .object(let members): return .object(members.map { ($0.0, $0.1.value) })
        }
    }

    func makeObject() {
        if case .object = storage { return }
        storage = .object([])
    }

    func makeArray() {
        if case .array = storage { return }
        storage = .array([])
    }

    func child(forKey key: String) -> EncodingNode {
        makeObject()
        let node = EncodingNode()
        if case .object(var members) = storage {
            if let index = members.firstIndex(where: { $0.0 == key }) {
                members[index].1 = node
            } else {
                members.append((key, node))
            }
            storage = .object(members)
        }
        return node
    }

    func appendChild() -> EncodingNode {
        makeArray()
        let node = EncodingNode()
        if case .array(var nodes) = storage {
            nodes.append(node)
            storage = .array(nodes)
        }
        return node
    }

    var count: Int {
        if case .array(let nodes) = storage { return nodes.count }
        return 0
    }
}

struct IndexKey: CodingKey {
    var intValue: Int?
    var stringValue: String { "Index \(intValue ?? 0)" }
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}

enum Primitive {
    static func number<T: BinaryInteger>(_ value: T) -> JSONValue { .number(String(value)) }

    static func number(_ value: Double, _ codingPath: [any CodingKey]) throws -> JSONValue {
        guard value.isFinite else {
            throw EncodingError.invalidValue(
                value, .init(codingPath: codingPath, debugDescription: "\(value) cannot be written as JSON"))
        }
        // Foundation writes integral values without a fraction (1 for 1.0).
        if value == value.rounded(), abs(value) < 1e15 { return .number(String(Int64(value))) }
        return .number(value.description)
    }
}

struct ValueEncoder: Encoder {
    let node: EncodingNode
    var codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        node.makeObject()
        return KeyedEncodingContainer(KeyedContainer<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        node.makeArray()
        return UnkeyedContainer(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleContainer(node: node, codingPath: codingPath)
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: EncodingNode
    var codingPath: [any CodingKey]

    private func set(_ value: JSONValue, _ key: Key) { node.child(forKey: key.stringValue).storage = .leaf(value) }

    mutating func encodeNil(forKey key: Key) throws { set(.null, key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { set(.bool(value), key) }
    mutating func encode(_ value: String, forKey key: Key) throws { set(.string(value), key) }
    mutating func encode(_ value: Double, forKey key: Key) throws {
        set(try Primitive.number(value, codingPath + [key]), key)
    }
    mutating func encode(_ value: Float, forKey key: Key) throws {
        set(try Primitive.number(Double(value), codingPath + [key]), key)
    }
    mutating func encode(_ value: Int, forKey key: Key) throws { set(Primitive.number(value), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { set(Primitive.number(value), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { set(Primitive.number(value), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { set(Primitive.number(value), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { set(Primitive.number(value), key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { set(Primitive.number(value), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { set(Primitive.number(value), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { set(Primitive.number(value), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { set(Primitive.number(value), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { set(Primitive.number(value), key) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try value.encode(to: ValueEncoder(node: node.child(forKey: key.stringValue), codingPath: codingPath + [key]))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        ValueEncoder(node: node.child(forKey: key.stringValue), codingPath: codingPath + [key]).container(
            keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        ValueEncoder(node: node.child(forKey: key.stringValue), codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        ValueEncoder(node: node.child(forKey: "super"), codingPath: codingPath)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        ValueEncoder(node: node.child(forKey: key.stringValue), codingPath: codingPath + [key])
    }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let node: EncodingNode
    var codingPath: [any CodingKey]
    var count: Int { node.count }

    private func append(_ value: JSONValue) { node.appendChild().storage = .leaf(value) }
    private var nextPath: [any CodingKey] { codingPath + [IndexKey(count)] }

    mutating func encodeNil() throws { append(.null) }
    mutating func encode(_ value: Bool) throws { append(.bool(value)) }
    mutating func encode(_ value: String) throws { append(.string(value)) }
    mutating func encode(_ value: Double) throws { append(try Primitive.number(value, nextPath)) }
    mutating func encode(_ value: Float) throws { append(try Primitive.number(Double(value), nextPath)) }
    mutating func encode(_ value: Int) throws { append(Primitive.number(value)) }
    mutating func encode(_ value: Int8) throws { append(Primitive.number(value)) }
    mutating func encode(_ value: Int16) throws { append(Primitive.number(value)) }
    mutating func encode(_ value: Int32) throws { append(Primitive.number(value)) }
    mutating func encode(_ value: Int64) throws { append(Primitive.number(value)) }
    mutating func encode(_ value: UInt) throws { append(Primitive.number(value)) }
    mutating func encode(_ value: UInt8) throws { append(Primitive.number(value)) }
    mutating func encode(_ value: UInt16) throws { append(Primitive.number(value)) }
    mutating func encode(_ value: UInt32) throws { append(Primitive.number(value)) }
    mutating func encode(_ value: UInt64) throws { append(Primitive.number(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        let path = nextPath
        try value.encode(to: ValueEncoder(node: node.appendChild(), codingPath: path))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type)
        -> KeyedEncodingContainer<NestedKey>
    {
        let path = nextPath
        return ValueEncoder(node: node.appendChild(), codingPath: path).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let path = nextPath
        return ValueEncoder(node: node.appendChild(), codingPath: path).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let path = nextPath
        return ValueEncoder(node: node.appendChild(), codingPath: path)
    }
}

private struct SingleContainer: SingleValueEncodingContainer {
    let node: EncodingNode
    var codingPath: [any CodingKey]

    private func set(_ value: JSONValue) { node.storage = .leaf(value) }

    mutating func encodeNil() throws { set(.null) }
    mutating func encode(_ value: Bool) throws { set(.bool(value)) }
    mutating func encode(_ value: String) throws { set(.string(value)) }
    mutating func encode(_ value: Double) throws { set(try Primitive.number(value, codingPath)) }
    mutating func encode(_ value: Float) throws { set(try Primitive.number(Double(value), codingPath)) }
    mutating func encode(_ value: Int) throws { set(Primitive.number(value)) }
    mutating func encode(_ value: Int8) throws { set(Primitive.number(value)) }
    mutating func encode(_ value: Int16) throws { set(Primitive.number(value)) }
    mutating func encode(_ value: Int32) throws { set(Primitive.number(value)) }
    mutating func encode(_ value: Int64) throws { set(Primitive.number(value)) }
    mutating func encode(_ value: UInt) throws { set(Primitive.number(value)) }
    mutating func encode(_ value: UInt8) throws { set(Primitive.number(value)) }
    mutating func encode(_ value: UInt16) throws { set(Primitive.number(value)) }
    mutating func encode(_ value: UInt32) throws { set(Primitive.number(value)) }
    mutating func encode(_ value: UInt64) throws { set(Primitive.number(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        try value.encode(to: ValueEncoder(node: node, codingPath: codingPath))
    }
}
