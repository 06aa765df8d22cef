import NodeSys

/// What a DHCPACK granted, read from the message and its options.
public struct DHCPLease: Sendable, Hashable {
    public var address: IPv4Address
    public var prefixLength: Int
    public var routers: [IPv4Address]
    public var dnsServers: [IPv4Address]
    public var hostName: String?
    public var domainName: String?
    /// Option 119, else the option-15 domain: the resolver's search list.
    public var searchDomains: [String]
    /// Option 17, as sent (dracut: `[nfs:|nfs4:]<server>:<path>[,<opts>]`).
    public var rootPath: String?
    /// `siaddr`, when the server set it.
    public var nextServer: IPv4Address?
    public var serverIdentifier: IPv4Address?
    public var leaseSeconds: UInt32?
    public var mtu: UInt16?
    public var bootFile: String?
    public var serverName: String?
    /// Option 121 routes. When present they replace option 3 (RFC 3442), so `routers` then holds the default
    /// route's router from this list, if any.
    public var classlessRoutes: [DHCPClasslessRoute]

    /// The lease an ACK describes; nil when it carries no usable address.
    public init?(acknowledgement ack: DHCPMessage) {
        guard !ack.yourAddress.isUnspecified, ack.yourAddress != .broadcast else { return nil }
        address = ack.yourAddress
        prefixLength = ack.options.subnetMask?.prefixLengthIfNetmask ?? Self.classfulPrefixLength(of: ack.yourAddress)
        classlessRoutes = ack.options.classlessStaticRoutes ?? []
        if ack.options.classlessStaticRoutes != nil {
            routers = classlessRoutes.filter { $0.prefixLength == 0 && !$0.router.isUnspecified }.map(\.router)
        } else {
            routers = ack.options.routers.filter { !$0.isUnspecified }
        }
        dnsServers = ack.options.domainNameServers.filter { !$0.isUnspecified }
        // Names end up in file paths (`%s` in an NFS path) and resolv.conf: only RFC 1123 names are taken.
        hostName = ack.options.hostName.flatMap(Self.validName)
        domainName = ack.options.domainName.flatMap(Self.validName)
        searchDomains = (ack.options.domainSearch ?? [domainName].compactMap { $0 }).compactMap(Self.validName)
        rootPath = ack.options.rootPath
        nextServer = ack.serverAddress.isUnspecified ? nil : ack.serverAddress
        serverIdentifier = ack.options.serverIdentifier
        leaseSeconds = ack.options.leaseTime
        mtu = ack.options.interfaceMTU
        bootFile = ack.options.bootFileName ?? (ack.bootFile.isEmpty ? nil : ack.bootFile)
        serverName = ack.options.tftpServerName ?? (ack.serverName.isEmpty ? nil : ack.serverName)
    }

    /// The name without a trailing dot when it is a valid RFC 1123 host or domain name (letters, digits, hyphens and
    /// underscores, which some sites use; labels of 1...63 characters not starting or ending with a hyphen; at most
    /// 253 characters), else nil.
    public static func validName(_ name: String) -> String? {
        let trimmed = name.hasSuffix(".") ? String(name.dropLast()) : name
        guard !trimmed.isEmpty, trimmed.utf8.count <= 253 else { return nil }
        for label in trimmed.split(separator: ".", omittingEmptySubsequences: false) {
            guard (1...63).contains(label.utf8.count), label.first != "-", label.last != "-",
                label.utf8.allSatisfy({ byte in
                    (byte >= 48 && byte <= 57) || (byte | 0x20 >= 97 && byte | 0x20 <= 122) || byte == 45 || byte == 95
                })
            else { return nil }
        }
        return trimmed
    }

    /// RFC 2131 leaves option 1 optional; without it the pre-CIDR class of the address is the only hint.
    static func classfulPrefixLength(of address: IPv4Address) -> Int {
        switch address.value >> 28 {
        case 0..<8: 8
        case 8..<12: 16
        default: 24
        }
    }
}
