/// An `nfs://server/path` location of one file. The server must be an IP literal (`10.0.0.1`, `[fd00::1]`): the
/// init resolves names itself before it asks for a file, and a static libnfs cannot use NSS.
public struct NFSURL: Sendable, Equatable, CustomStringConvertible {
    /// The address without brackets.
    public var server: String
    /// Absolute path of the file on the server (the NFSv4 pseudo path, or an exported path for v3).
    public var path: String

    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case invalid(url: String, problem: String)

        public var description: String {
            switch self {
            case .invalid(let url, let problem): return "invalid nfs url '\(url)': \(problem)"
            }
        }
    }

    public init(server: String, path: String) {
        self.server = server
        self.path = path
    }

    /// Parses `nfs://server/path`. Query strings and ports are refused (libnfs would take them as options).
    public init(parsing text: String) throws(Error) {
        guard text.hasPrefix("nfs://") else { throw .invalid(url: text, problem: "expected nfs://server/path") }
        let rest = text.dropFirst("nfs://".count)
        var server: Substring
        var path: Substring
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else {
                throw .invalid(url: text, problem: "unclosed '[' in the server")
            }
            server = rest[rest.index(after: rest.startIndex)..<close]
            path = rest[rest.index(after: close)...]
        } else {
            let slash = rest.firstIndex(of: "/") ?? rest.endIndex
            server = rest[..<slash]
            path = rest[slash...]
        }
        guard !server.isEmpty else { throw .invalid(url: text, problem: "no server") }
        guard path.hasPrefix("/"), path.count > 1, !path.hasSuffix("/") else {
            throw .invalid(url: text, problem: "expected a file path after the server")
        }
        if path.contains("?") || path.contains("#") || server.contains(":") && !rest.hasPrefix("[") {
            throw .invalid(url: text, problem: "ports, queries and fragments are not supported")
        }
        for part in path.split(separator: "/") where part == ".." || part == "." {
            throw .invalid(url: text, problem: "'.' and '..' are not allowed in the path")
        }
        guard Self.isAddressLiteral(String(server)) else {
            throw .invalid(url: text, problem: "the server must be an IP address (resolve the name first)")
        }
        self.server = String(server)
        self.path = String(path)
    }

    static func isAddressLiteral(_ text: String) -> Bool {
        if text.contains(":") { return text.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." } }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4
            && parts.allSatisfy { part in
                !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber)
                    && (Int(part) ?? 256) <= 255
            }
    }

    public var description: String {
        server.contains(":") ? "nfs://[\(server)]\(path)" : "nfs://\(server)\(path)"
    }
}
