/// Recognising IP address literals in server names (the kernel needs an address; names go to DNS).
enum IPLiteral {
    /// "10.0.2.2": four decimal octets 0-255.
    static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        return parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCIIDigit) && (Int(part) ?? 256) <= 255
        }
    }

    /// A loose IPv6 check: hex digits, colons (at least two), optional dotted IPv4 tail.
    static func isIPv6(_ text: String) -> Bool {
        let colons = text.filter { $0 == ":" }.count
        guard colons >= 2, colons <= 7 else { return false }
        return text.allSatisfy { $0 == ":" || $0 == "." || $0.isHexDigit }
    }

    static func isLiteral(_ text: String) -> Bool { isIPv4(text) || isIPv6(text) }

    /// The host part of an NFS source: IPv6 in brackets.
    static func sourceHost(_ address: String) -> String {
        isIPv6(address) ? "[\(address)]" : address
    }
}

extension Character {
    var isASCIIDigit: Bool { self >= "0" && self <= "9" }
}
