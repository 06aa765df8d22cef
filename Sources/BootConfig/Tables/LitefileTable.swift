/// The xCAT `litefile` table (`#image,file,options,comments,disable`), validated as xCAT's `liteimg` does and
/// merged for one image as xCAT's `litefile` command does.
public struct LitefileTable: Sendable {
    public struct Row: Equatable, Sendable {
        public var line: Int
        public var image: String
        public var path: String
        public var option: LitefileOption
        /// As written, surrounding blanks removed.
        public var optionSpelling: String
    }

    public enum Error: BootConfigError, Equatable {
        case invalidRow(file: String, line: Int, problem: String)
        case invalidCombination(file: String, line: Int, path: String, parent: String, problem: String)

        public var description: String {
            switch self {
            case .invalidRow(let file, let line, let problem):
                return "\(file):\(line): \(problem)"
            case .invalidCombination(let file, let line, let path, let parent, let problem):
                return "\(file):\(line): \(path) under \(parent): \(problem)"
            }
        }
    }

    public static let columns = ["image", "file", "options", "comments", "disable"]

    /// Every spelling xCAT accepts, plus the cookbook's old `bind` and `bind,persistent`.
    static let spellings: [String: LitefileOption] = [
        "": .link, "link": .link, "tmpfs,rw": .link,
        "tmpfs": .tmpfs, "rw": .tmpfs, "bind": .tmpfs,
        "persistent": .persistent, "bind,persistent": .persistent,
        "link,persistent": .linkPersistent,
        "ro": .readOnly, "link,ro": .linkReadOnly,
        "con": .concatenate, "link,con": .linkConcatenate,
        "localdisk": .localdisk,
    ]

    /// Parses and validates every row of `table` in its format.
    public static func parse(_ table: BootInputs.Table) throws -> [Row] {
        switch table.format {
        case .tabdump: return try parse(table.text, file: table.name)
        case .xcatd: return try parseXcatd(table.text, file: table.name)
        }
    }

    /// Parses and validates every row (whatever its image).
    public static func parse(_ text: String, file: String) throws -> [Row] {
        var rows: [Row] = []
        for row in try TabdumpCSV.parse(text, file: file, columns: columns) {
            rows.append(
                try validated(
                    image: row.values[0].trimmingASCIIWhitespace(), path: row.values[1].trimmingASCIIWhitespace(),
                    written: row.values[2].trimmingASCIIWhitespace(), line: row.line, file: file))
        }
        return rows
    }

    /// xcatd's litefile answer (`XcatdAnswer.tableText`): `OPTIONS FILE` per line (`sprintf "%-13s %s"`), already
    /// merged for the node's image by xcatd (blank options sent as `tmpfs,rw`). Each entry is validated as a table
    /// row; its image is the empty scope, so the planner's merge keeps it and sorts the entries again. Unlike
    /// `rc.statelite`, which splits on `:`, a path containing `:` is kept whole.
    public static func parseXcatd(_ text: String, file: String) throws -> [Row] {
        var rows: [Row] = []
        for (offset, line) in text.splitKeepingEmpty(on: "\n").enumerated() where !line.isEmpty {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard fields.count >= 2 else {
                throw Error.invalidRow(
                    file: file, line: offset + 1,
                    problem: "expected `OPTIONS FILE`, got \(quotedForMessage(line))")
            }
            // More than two fields: the path holds blanks, which validation refuses by name.
            rows.append(
                try validated(
                    image: "", path: fields.dropFirst().joined(separator: " "), written: fields[0], line: offset + 1,
                    file: file))
        }
        return rows
    }

    /// One row checked as liteimg checks it: a known option, an absolute path without blanks or `.`/`..`.
    static func validated(image: String, path: String, written: String, line: Int, file: String) throws -> Row {
        func fail(_ problem: String) -> Error { .invalidRow(file: file, line: line, problem: problem) }
        let normalized = String(String.UnicodeScalarView(written.unicodeScalars.filter { !$0.isASCIIWhitespace }))
        guard let option = spellings[normalized] else {
            throw fail(
                "unknown option \(quotedForMessage(written)) for \(path); expected blank, "
                    + "tmpfs, rw, tmpfs,rw, link, persistent, link,persistent, ro, link,ro, con, link,con, localdisk, bind or bind,persistent"
            )
        }
        guard !path.isEmpty else { throw fail("empty file name") }
        guard path.startsWith("/") else { throw fail("\(quotedForMessage(path)) is not an absolute path") }
        guard !path.containsWhitespaceOrControl else { throw fail("\(quotedForMessage(path)) contains whitespace") }
        guard path != "/" else { throw fail("/ itself cannot be a litefile entry") }
        let components = path.splitKeepingEmpty(on: "/").dropFirst()
        let inner = path.endsWith("/") ? components.dropLast() : components
        guard !inner.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
            throw fail("\(quotedForMessage(path)) has empty, . or .. components")
        }
        if path.endsWith("/") && (option == .concatenate || option == .linkConcatenate) {
            throw fail("\(written) applies only to files, and \(path) is a directory")
        }
        return Row(line: line, image: image, path: path, option: option, optionSpelling: written)
    }

    /// The rows that apply to `image` (image column empty, `ALL`, or the image name), merged per path in the order
    /// empty, `ALL`, image (later wins, as xCAT's litefile command does), plus `/etc/mtab` as `link` if missing
    /// (xCAT adds it), then checked against liteimg's parent/child rules. Sorted by path (byte order).
    public static func merged(_ rows: [Row], image: String?, file: String) throws -> [Row] {
        var byPath: [String: Row] = [:]
        let scopes: [String] = image.map { ["", "ALL", $0] } ?? ["", "ALL"]
        for scope in scopes {
            for row in rows where row.image == scope { byPath[row.path] = row }
        }
        if !byPath.isEmpty && byPath["/etc/mtab"] == nil {
            byPath["/etc/mtab"] = Row(line: 0, image: "", path: "/etc/mtab", option: .link, optionSpelling: "link")
        }
        let merged = byPath.values.sorted { byteOrder($0.path, $1.path) }
        try checkCombinations(merged, file: file)
        return merged
    }

    /// liteimg's rules: no entries under `ro` or `con` directories; under a link-type directory only link-type
    /// children and not `link,ro`; under any other directory no link-type children (except `/etc/mtab`); under a
    /// `persistent` or `link,persistent` directory only persistent children (`persistent`, `link,persistent`).
    static func checkCombinations(_ rows: [Row], file: String) throws {
        let byPath = Dictionary(rows.map { ($0.path, $0) }, uniquingKeysWith: { _, last in last })
        for row in rows {
            let ancestors = ancestorDirectories(of: row.path).filter { byPath[$0] != nil }
            guard let parentPath = ancestors.last, let parent = byPath[parentPath] else { continue }
            func fail(_ problem: String) -> Error {
                .invalidCombination(file: file, line: row.line, path: row.path, parent: parentPath, problem: problem)
            }
            for ancestorPath in ancestors {
                if let ancestor = byPath[ancestorPath], ancestor.option == .readOnly || ancestor.option == .concatenate
                {
                    throw Error.invalidCombination(
                        file: file, line: row.line, path: row.path, parent: ancestorPath,
                        problem: "a \(ancestor.optionSpelling) directory cannot have entries below it")
                }
            }
            if parent.option.isLinkKind {
                if !row.option.isLinkKind {
                    throw fail(
                        "children of a link-type directory must be link-type, not \(display(row.optionSpelling))")
                }
                if row.option == .linkReadOnly { throw fail("link,ro is not allowed under a link-type directory") }
            } else {
                if row.option.isLinkKind && row.path != "/etc/mtab" {
                    throw fail(
                        "children of a \(display(parent.optionSpelling)) directory cannot be link-type (\(display(row.optionSpelling)))"
                    )
                }
            }
            // liteimg: a child of a directory whose option names persistent must name persistent too (so under
            // link,persistent only link,persistent; the statelite guide marks link,persistent over link "NOT
            // permitted").
            if parent.option.isPersistentKind && !row.option.isPersistentKind {
                throw fail(
                    "children of a \(display(parent.optionSpelling)) directory must be persistent too, not \(display(row.optionSpelling))"
                )
            }
        }
    }

    static func display(_ spelling: String) -> String { spelling.isEmpty ? "blank" : spelling }

    /// `/a/b/c` gives `/a/`, `/a/b/` (outermost first); `/a/b/` gives `/a/`.
    static func ancestorDirectories(of path: String) -> [String] {
        var trimmed = path
        if trimmed.endsWith("/") { trimmed = trimmed.droppingLastScalars(1) }
        var result: [String] = []
        var current = "/"
        let components = trimmed.splitKeepingEmpty(on: "/").filter { !$0.isEmpty }
        for component in components.dropLast() {
            current += component + "/"
            result.append(current)
        }
        return result
    }
}

/// Byte-wise string order (Perl's `sort`), independent of Unicode normalization.
func byteOrder(_ a: String, _ b: String) -> Bool {
    a.utf8.lexicographicallyPrecedes(b.utf8)
}
