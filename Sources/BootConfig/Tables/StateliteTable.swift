/// The xCAT `statelite` table (`#node,image,statemnt,mntopts,comments,disable`): where a node keeps its
/// persistent files. Rows are keyed by node name or group.
public struct StateliteTable: Sendable {
    public struct Row: Equatable, Sendable {
        public var line: Int
        public var node: String
        public var image: String
        /// `server:/dir` as written (variables not yet substituted).
        public var statemnt: String
        public var mountOptions: [String]
    }

    public enum Error: BootConfigError, Equatable {
        case invalidRow(file: String, line: Int, problem: String)
        case ambiguous(file: String, lines: [Int], key: String)

        public var description: String {
            switch self {
            case .invalidRow(let file, let line, let problem): return "\(file):\(line): \(problem)"
            case .ambiguous(let file, let lines, let key):
                return
                    "\(file):\(lines.map(String.init).joined(separator: ",")): several rows match \(key); xCAT requires one"
            }
        }
    }

    public static let columns = ["node", "image", "statemnt", "mntopts", "comments", "disable"]

    public static func parse(_ text: String, file: String) throws -> [Row] {
        var rows: [Row] = []
        for row in try TabdumpCSV.parse(text, file: file, columns: columns) {
            func fail(_ problem: String) -> Error { .invalidRow(file: file, line: row.line, problem: problem) }
            let node = row.values[0].trimmingASCIIWhitespace()
            guard !node.isEmpty else { throw fail("empty node or group name") }
            let statemnt = row.values[2].trimmingASCIIWhitespace()
            guard !statemnt.containsWhitespaceOrControl else { throw fail("statemnt contains whitespace") }
            if !statemnt.isEmpty && !statemnt.contains("$") {
                do {
                    _ = try StateliteSpec.parseStatemnt(statemnt, parameter: "statemnt")
                } catch {
                    throw fail(error.description)
                }
            }
            let options = row.values[3].trimmingASCIIWhitespace()
            do {
                _ = try NFSMountOptions(options.commaList(), parameter: "mntopts", whole: options, readOnly: false)
            } catch {
                throw fail(error.description)
            }
            rows.append(
                Row(
                    line: row.line, node: node, image: row.values[1].trimmingASCIIWhitespace(), statemnt: statemnt,
                    mountOptions: options.commaList()))
        }
        return rows
    }

    /// The row for this node: its own row, else the row of its first group (in `groups` order) that has one.
    /// Only rows whose image is empty, `ALL` or `image` count. More than one row for the same key is an error.
    public static func select(_ rows: [Row], node: String?, groups: [String], image: String?, file: String) throws
        -> Row?
    {
        let keys = (node.map { [$0] } ?? []) + groups
        for key in keys {
            let matches = rows.filter { row in
                row.node == key && (row.image.isEmpty || row.image == "ALL" || row.image == image)
            }
            if matches.count > 1 { throw Error.ambiguous(file: file, lines: matches.map(\.line), key: key) }
            if let match = matches.first { return match }
        }
        return nil
    }
}
