import NodeSys
import OverlayCapture
import SystemPackage

/// The nodes of a multi-node `pull` or `save`: named on the command line and/or listed in a file
/// (`--nodes-file`), since sites have hundreds.
public enum NodeList {
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case unreadable(path: String, Errno)
        case invalidLine(path: String, line: Int, String)
        case duplicate(String)
        case sameAgent(String, String, SocketAddress)
        case empty

        public var description: String {
            switch self {
            case .unreadable(let path, let e): "cannot read the node list \(path): \(e) (errno \(e.rawValue))"
            case .invalidLine(let path, let line, let text):
                "\(path) line \(line): \"\(DisplayText.safe(text, limit: 120))\" is not one node name (one per line, # comments)"
            case .duplicate(let node):
                "node \(node) is named twice: each node is pulled once, into a file named after it"
            case .sameAgent(let first, let second, let endpoint):
                "nodes \(first) and \(second) are the same agent (\(endpoint)): it serves one capture per client at a time, name it once"
            case .empty: "no nodes given"
            }
        }
    }

    /// One node per line; `#` starts a comment; blank lines are skipped; surrounding blanks are ignored.
    public static func parse(_ contents: String, path: String = "node list") throws(Error) -> [String] {
        var nodes: [String] = []
        var number = 0
        // "\r\n" is one Character in Swift: split on every newline, or a file from Windows is one long line.
        for rawLine in contents.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            number += 1
            let uncommented = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = uncommented.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if fields.isEmpty { continue }
            // "node1 node2" on one line is more likely a mistake (an /etc/hosts copy) than a wish.
            guard fields.count == 1 else { throw .invalidLine(path: path, line: number, String(rawLine)) }
            nodes.append(String(fields[0]))
        }
        return nodes
    }

    public static func load(_ path: String) throws(Error) -> [String] {
        let contents: String
        do { contents = try readTextFile(path) } catch { throw .unreadable(path: path, error) }
        return try parse(contents, path: path)
    }

    /// The command line's nodes, then the file's; every node once.
    public static func combine(_ arguments: [String], _ fromFile: [String]) throws(Error) -> [String] {
        var seen = Set<String>()
        var nodes: [String] = []
        for node in arguments + fromFile {
            guard seen.insert(node).inserted else { throw .duplicate(node) }
            nodes.append(node)
        }
        guard !nodes.isEmpty else { throw .empty }
        return nodes
    }

    /// Refuses two names for one agent (a name and its address, or two aliases in /etc/hosts): the agent serves
    /// one capture per client address at a time, so the second would fail with 429, and both would write the
    /// same changes twice. Names that do not resolve are left for their pull to report.
    public static func checkDistinctAgents(_ nodes: [String], hostsFile: String = "/etc/hosts") throws(Error) {
        var seen: [SocketAddress: String] = [:]
        for node in nodes {
            guard let endpoint = try? NodeEndpoint.resolve(node, hostsFile: hostsFile) else { continue }
            if let first = seen[endpoint] { throw .sameAgent(first, node, endpoint) }
            seen[endpoint] = node
        }
    }

    private static func readTextFile(_ path: String) throws(Errno) -> String {
        let fd: FileDescriptor
        do { fd = try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec]) } catch {
            throw (error as? Errno) ?? .ioError
        }
        defer { try? fd.close() }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        // 16 MiB of node names is far beyond any site; the cap keeps a wrong path (a disk image) harmless.
        while bytes.count < 16 << 20 {
            let count: Int
            do { count = try buffer.withUnsafeMutableBytes { try fd.read(into: $0) } } catch {
                throw (error as? Errno) ?? .ioError
            }
            if count == 0 { break }
            bytes += buffer[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
