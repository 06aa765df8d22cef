/// An ordered, comma-separated mount option list ("ro,vers=4.2,addr=10.0.2.2").
/// Later settings of the same key replace earlier ones in place, so defaults can be laid down first
/// and a user's options applied over them, the way the kernel's nfsroot code appends its mandatory
/// options last.
public struct MountOptions: Sendable, Equatable, CustomStringConvertible {
    public struct Option: Sendable, Equatable {
        public var key: String
        public var value: String?

        public init(key: String, value: String?) {
            self.key = key
            self.value = value
        }
    }

    public private(set) var options: [Option] = []

    public init() {}

    /// Parses "a,b=c" (empty items are dropped).
    public init(parsing text: String) {
        for item in text.split(separator: ",", omittingEmptySubsequences: true) {
            if let equals = item.firstIndex(of: "=") {
                set(String(item[..<equals]), String(item[item.index(after: equals)...]))
            } else {
                set(String(item))
            }
        }
    }

    public func value(of key: String) -> String?? {
        options.first(where: { $0.key == key }).map(\.value)
    }

    public func contains(_ key: String) -> Bool { options.contains(where: { $0.key == key }) }

    /// Sets `key` (or `key=value`), replacing an earlier setting of the same key.
    public mutating func set(_ key: String, _ value: String? = nil) {
        if let index = options.firstIndex(where: { $0.key == key }) {
            options[index].value = value
        } else {
            options.append(Option(key: key, value: value))
        }
    }

    public mutating func remove(_ key: String) {
        options.removeAll(where: { $0.key == key })
    }

    /// Applies the options of `other` over self.
    public mutating func merge(_ other: MountOptions) {
        for option in other.options { set(option.key, option.value) }
    }

    public var description: String {
        options.map { option in option.value.map { "\(option.key)=\($0)" } ?? option.key }.joined(separator: ",")
    }
}
