import NodeAgent
import NodeSys
import SystemPackage

/// Turns `<node>[:port]` into an address. The nodeinit binary is static, so glibc's NSS (and with
/// it DNS through getaddrinfo) is not available: a node is an IP literal, or a name listed in
/// /etc/hosts, which is read here directly.
public enum NodeEndpoint {
    /// The agent's port when none is given (`nodeinit.agent=` default).
    public static let defaultPort: UInt16 = AgentConfiguration.defaultPort

    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case invalidPort(String)
        case unknownName(String, hostsFile: String)
        case invalidName(String)

        public var description: String {
            switch self {
            case .invalidPort(let text): "invalid port in \"\(text)\" (expected 1-65535)"
            case .unknownName(let name, let hostsFile):
                "unknown node \"\(name)\": not an IP address and not in \(hostsFile) (names are looked up there only: the static binary has no DNS/NSS)"
            case .invalidName(let text):
                "invalid node \"\(text)\" (expected an IP address or a host name, optionally :port; IPv6 with a port as [addr]:port)"
            }
        }
    }

    /// Parses "10.0.0.5", "10.0.0.5:7071", "node12", "node12:7071", "2001:db8::5", "[2001:db8::5]:7071".
    public static func resolve(_ text: String, defaultPort: UInt16 = defaultPort, hostsFile: String = "/etc/hosts")
        throws(Error) -> SocketAddress
    {
        let (host, port) = try split(text, defaultPort: defaultPort)
        if let address = IPAddress(host) { return SocketAddress(address, port: port) }
        guard isHostName(host) else { throw .invalidName(text) }
        let contents = (try? readSmallFile(hostsFile)) ?? ""
        guard let address = lookUp(host, inHosts: contents) else { throw .unknownName(host, hostsFile: hostsFile) }
        return SocketAddress(address, port: port)
    }

    static func split(_ text: String, defaultPort: UInt16) throws(Error) -> (host: String, port: UInt16) {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw .invalidName(text) }
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if rest.isEmpty { return (host, defaultPort) }
            guard rest.hasPrefix(":") else { throw .invalidName(text) }
            return (host, try port(String(rest.dropFirst()), in: text))
        }
        let colons = text.filter { $0 == ":" }.count
        // Two or more colons: a bare IPv6 literal, which cannot carry a port without brackets.
        if colons == 1, let colon = text.firstIndex(of: ":") {
            return (String(text[..<colon]), try port(String(text[text.index(after: colon)...]), in: text))
        }
        return (text, defaultPort)
    }

    private static func port(_ text: String, in whole: String) throws(Error) -> UInt16 {
        guard !text.isEmpty, text.count <= 5, text.allSatisfy(\.isWholeNumber), text.allSatisfy(\.isASCII),
            let value = UInt16(text), value > 0
        else { throw .invalidPort(whole) }
        return value
    }

    /// RFC 1123 labels: letters, digits, hyphens; dots between labels.
    static func isHostName(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 253 else { return false }
        return text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.utf8.allSatisfy {
                    $0.isASCIIAlphanumeric || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_")
                }
        }
    }

    /// The first address whose line names `name` (case-insensitive), as glibc's files backend does.
    static func lookUp(_ name: String, inHosts contents: String) -> IPAddress? {
        let wanted = name.lowercased()
        for rawLine in contents.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, let address = IPAddress(fields[0]) else { continue }
            if fields.dropFirst().contains(where: { $0.lowercased() == wanted }) { return address }
        }
        return nil
    }

    private static func readSmallFile(_ path: String) throws -> String {
        let fd = try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec])
        defer { try? fd.close() }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while bytes.count < 4 << 20 {
            let count = try buffer.withUnsafeMutableBytes { try fd.read(into: $0) }
            if count == 0 { break }
            bytes += buffer[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
