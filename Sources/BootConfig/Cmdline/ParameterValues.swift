// Typed readers for single command-line values. Each throws a `ParameterError` naming the parameter.

extension KernelCommandLine {
    /// A dracut-style boolean (`getargbool`): absent gives nil; bare word, empty, `1`, `yes`, `on`, `true` give true;
    /// `0`, `no`, `off`, `false` give false; anything else is an error. The last occurrence wins.
    func flag(_ key: String) throws(ParameterError) -> Bool? {
        guard let parameter = lastParameter(key) else { return nil }
        guard let value = parameter.value else { return true }
        return try parseFlag(value, parameter: key)
    }

    /// A non-negative integer in `0...max`; absent gives nil.
    func integer(_ key: String, max: Int) throws(ParameterError) -> Int? {
        guard let parameter = lastParameter(key) else { return nil }
        let value = parameter.value ?? ""
        guard let number = value.parseDecimal(max: max) else {
            throw ParameterError(parameter: key, value: value, problem: "expected a whole number from 0 to \(max)")
        }
        return number
    }
}

func parseFlag(_ value: String, parameter: String) throws(ParameterError) -> Bool {
    switch value.asciiLowercased() {
    case "", "1", "yes", "on", "true", "y": return true
    case "0", "no", "off", "false", "n": return false
    default:
        throw ParameterError(parameter: parameter, value: value, problem: "expected 1/yes/on or 0/no/off")
    }
}

/// A host name or IP literal used as a server. Brackets around IPv6 are removed. Returns (host, isAddress).
func parseServer(_ text: String, parameter: String, whole: String) throws(ParameterError) -> (String, Bool) {
    if text.isEmpty {
        throw ParameterError(parameter: parameter, value: whole, problem: "empty server name")
    }
    if text.startsWith("[") {
        guard text.endsWith("]"), let address = IPAddress(text), address.isIPv6 else {
            throw ParameterError(parameter: parameter, value: whole, problem: "bad IPv6 server \(text)")
        }
        return (address.description, true)
    }
    if let address = IPAddress(text), !address.isIPv6 {
        return (address.description, true)
    }
    if isValidHostName(text) {
        return (text, false)
    }
    throw ParameterError(parameter: parameter, value: whole, problem: "bad server name \(quotedForMessage(text))")
}

/// RFC 1123 host name (letters, digits, `-`, `.`, plus `_` which real networks use), at most 253 characters.
/// For a server, all digits-and-dots is refused (that is a malformed IPv4 address, not a name); a node name
/// such as `1001` is fine.
func isValidHostName(_ text: String, allowNumeric: Bool = false) -> Bool {
    let scalars = text.unicodeScalars
    guard !scalars.isEmpty, scalars.count <= 253 else { return false }
    var allNumeric = true
    for scalar in scalars {
        let ok = scalar.isASCIIAlphanumeric || scalar == "-" || scalar == "." || scalar == "_"
        if !ok { return false }
        if !(scalar.value >= 48 && scalar.value <= 57) && scalar != "." { allNumeric = false }
    }
    if allNumeric && !allowNumeric { return false }
    if scalars.first == "." || scalars.first == "-" { return false }
    return true
}

/// Normalizes a MAC address given as `aa:bb:..`, `aa-bb-..`, or PXELINUX `01-aa-bb-...` (hardware type 01 =
/// Ethernet) into lowercase `aa:bb:cc:dd:ee:ff`. Nil when it is not a 6-byte unicast Ethernet address.
func normalizeMAC(_ text: String, allowHardwareType: Bool) -> MACAddress? {
    var groups: [String] = []
    var current = ""
    for scalar in text.unicodeScalars {
        if scalar == ":" || scalar == "-" {
            groups.append(current)
            current = ""
        } else {
            current.unicodeScalars.append(scalar)
        }
    }
    groups.append(current)
    if allowHardwareType && groups.count == 7 {
        guard groups[0] == "01" else { return nil }
        groups.removeFirst()
    }
    guard groups.count == 6 else { return nil }
    for group in groups {
        guard group.unicodeScalars.count == 2, group.unicodeScalars.allSatisfy({ $0.isASCIIHexDigit }) else {
            return nil
        }
    }
    // A NIC's own address is unicast: a set multicast bit means the text was misread (e.g. a truncated `01-...`).
    guard let firstByte = UInt8(groups[0], radix: 16), firstByte & 1 == 0 else { return nil }
    return MACAddress(groups.joined(separator: ":"))
}

/// A Linux interface name: 1-15 characters, no `/`, `:`, whitespace or control characters.
func isValidInterfaceName(_ text: String) -> Bool {
    let scalars = text.unicodeScalars
    guard !scalars.isEmpty, scalars.count <= 15, text != ".", text != ".." else { return false }
    return !scalars.contains { $0 == "/" || $0 == ":" || $0.isASCIIWhitespace || $0.value < 0x21 || $0.value > 0x7e }
}
