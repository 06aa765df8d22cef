/// uid → user name and gid → group name, parsed from the image's own /etc/passwd and /etc/group
/// (not NSS: the node's names are the image's, and a static binary cannot use NSS anyway).
public struct OwnerNames: Sendable, Equatable {
    public var users: [UInt32: String]
    public var groups: [UInt32: String]

    public init(users: [UInt32: String] = [:], groups: [UInt32: String] = [:]) {
        self.users = users
        self.groups = groups
    }

    /// Parses `/etc/passwd` and `/etc/group` text (`name:x:id:...`); the first name for an id wins.
    public init(passwd: String, group: String) {
        users = OwnerNames.parse(passwd)
        groups = OwnerNames.parse(group)
    }

    static func parse(_ text: String) -> [UInt32: String] {
        var table: [UInt32: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false)
            guard fields.count >= 3, !fields[0].isEmpty, let id = UInt32(fields[2]) else { continue }
            if table[id] == nil { table[id] = String(fields[0]) }
        }
        return table
    }
}
