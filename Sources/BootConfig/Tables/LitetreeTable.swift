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

    /// Parses and validates every row of `table` in its format.
    public static func parse(_ table: BootInputs.Table) throws -> [Row] {
        switch table.format {
        case .tabdump: return try parse(table.text, file: table.name)
        case .xcatd: return try parseXcatd(table.text, file: table.name)
        }
    }

    public static func parse(_ text: String, file: String) throws -> [Row] {
        var rows: [Row] = []
        for row in try TabdumpCSV.parse(text, file: file, columns: columns) {
            rows.append(
                try validated(
                    priority: row.values[0].trimmingASCIIWhitespace(), image: row.values[1].trimmingASCIIWhitespace(),
                    directory: row.values[2].trimmingASCIIWhitespace(),
                    options: row.values[3].trimmingASCIIWhitespace(), line: row.line, file: file))
        }
        return rows
    }

    /// xcatd's litetree answer (`XcatdAnswer.tableText`): `[SRV:]DIR` per line, followed by ` :MNTOPTS` when the row
    /// has mount options (litetree.pm `showSync`), in ascending priority order (xcatd sorts the priorities
    /// numerically and sends no number). The priorities become 1, 2, ... in that order; `rc.statelite` drops the
    /// mount options (`awk '{print $2}'`), nodeinit keeps them.
    public static func parseXcatd(_ text: String, file: String) throws -> [Row] {
        var rows: [Row] = []
        for (offset, line) in text.splitKeepingEmpty(on: "\n").enumerated() where !line.isEmpty {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            var options = ""
            if fields.count == 2, fields[1].startsWith(":") {
                options = fields[1].droppingScalars(1)
            } else if fields.count != 1 {
                throw Error.invalidRow(
                    file: file, line: offset + 1,
                    problem: "expected `[SERVER:]DIRECTORY[ :MNTOPTS]`, got \(quotedForMessage(line))")
            }
            rows.append(
                try validated(
                    priority: String(rows.count + 1), image: "", directory: fields[0], options: options,
                    line: offset + 1, file: file))
        }
        return rows
    }

    static func validated(
        priority: String, image: String, directory: String, options: String, line: Int, file: String
    ) throws -> Row {
        func fail(_ problem: String) -> Error { .invalidRow(file: file, line: line, problem: problem) }
        guard let value = parsePriority(priority) else {
            throw fail("priority \(quotedForMessage(priority)) is not a number")
        }
        guard !directory.isEmpty else { throw fail("empty directory") }
        guard !directory.containsWhitespaceOrControl else {
            throw fail("directory \(quotedForMessage(directory)) contains whitespace")
        }
        // The tree is mounted on /.statelite/mnt/<server><path>: a `.` or `..` would put it elsewhere (over /etc).
        let path =
            directory.startsWith("/")
            ? directory : directory.splitColonsOutsideBrackets().dropFirst().joined(separator: ":")
        if path.splitKeepingEmpty(on: "/").contains(where: { $0 == "." || $0 == ".." }) {
            throw fail("directory \(quotedForMessage(directory)) has . or .. components")
        }
        do {
            _ = try NFSMountOptions(options.commaList(), parameter: "mntopts", whole: options, readOnly: true)
        } catch {
            throw fail(error.description)
        }
        return Row(
            line: line, priority: priority, priorityValue: value, image: image, directory: directory,
            mountOptions: options.commaList())
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
