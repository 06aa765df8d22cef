/// The xCAT `litetree` table (`#priority,image,directory,mntopts,comments,disable`): where litefile sources come
/// from, searched by ascending priority before the image's `/.default`.
public struct LitetreeTable: Sendable {
    public struct Row: Equatable, Sendable {
        public var line: Int
        /// Priority as written.
        public var priority: String
        /// Parsed priority for sorting.
        public var priorityValue: Double
        public var image: String
        /// `[server:]/dir` as written (variables not yet substituted).
        public var directory: String
        public var mountOptions: [String]
    }

    public enum Error: BootConfigError, Equatable {
        case invalidRow(file: String, line: Int, problem: String)

        public var description: String {
            switch self {
            case .invalidRow(let file, let line, let problem): return "\(file):\(line): \(problem)"
            }
        }
    }

    public static let columns = ["priority", "image", "directory", "mntopts", "comments", "disable"]

    public static func parse(_ text: String, file: String) throws -> [Row] {
        var rows: [Row] = []
        for row in try TabdumpCSV.parse(text, file: file, columns: columns) {
            func fail(_ problem: String) -> Error { .invalidRow(file: file, line: row.line, problem: problem) }
            let priority = row.values[0].trimmingASCIIWhitespace()
            guard let value = parsePriority(priority) else {
                throw fail("priority \(quotedForMessage(priority)) is not a number")
            }
            let directory = row.values[2].trimmingASCIIWhitespace()
            guard !directory.isEmpty else { throw fail("empty directory") }
            guard !directory.containsWhitespaceOrControl else {
                throw fail("directory \(quotedForMessage(directory)) contains whitespace")
            }
            let options = row.values[3].trimmingASCIIWhitespace()
            do {
                _ = try NFSMountOptions(options.commaList(), parameter: "mntopts", whole: options, readOnly: true)
            } catch {
                throw fail(error.description)
            }
            rows.append(
                Row(
                    line: row.line, priority: priority, priorityValue: value,
                    image: row.values[1].trimmingASCIIWhitespace(), directory: directory,
                    mountOptions: options.commaList()))
        }
        return rows
    }

    /// Rows for `image` (empty, `ALL`, the image), one per priority (a later scope overrides), by ascending priority.
    public static func merged(_ rows: [Row], image: String?) -> [Row] {
        var byPriority: [String: Row] = [:]
        let scopes: [String] = image.map { ["", "ALL", $0] } ?? ["", "ALL"]
        for scope in scopes {
            for row in rows where row.image == scope {
                // Key on the canonical number so `1` and `1.0` are the same priority.
                byPriority[String(row.priorityValue)] = row
            }
        }
        return byPriority.values.sorted {
            $0.priorityValue != $1.priorityValue ? $0.priorityValue < $1.priorityValue : $0.line < $1.line
        }
    }

    /// Digits with at most one `.`, e.g. `1`, `2.5`.
    static func parsePriority(_ text: String) -> Double? {
        let scalars = text.unicodeScalars
        guard !scalars.isEmpty, scalars.count <= 15 else { return nil }
        var dots = 0
        for scalar in scalars {
            if scalar == "." { dots += 1; continue }
            guard scalar.value >= 48 && scalar.value <= 57 else { return nil }
        }
        guard dots <= 1, text != "." else { return nil }
        return Double(text)
    }
}
