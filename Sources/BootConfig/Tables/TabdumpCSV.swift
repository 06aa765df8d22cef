/// Reader for the CSV that xCAT's `tabdump` writes: one row per line, fields separated by `,`, fields in double
/// quotes with `""` for a quote inside, commas (and newlines) allowed inside quotes, blank space around fields
/// ignored, `#` lines are comments, and the first comment line is the header naming the columns
/// (`#image,file,options,comments,disable`). Rows whose `disable` column is `1` or `yes` are skipped, as xCAT does.
public struct TabdumpCSV: Sendable {
    /// One data row: the values of the requested columns, in the requested order (missing columns are empty).
    public struct Row: Equatable, Sendable {
        /// 1-based line number where the row starts.
        public var line: Int
        public var values: [String]
    }

    public enum Error: BootConfigError, Equatable {
        case unterminatedQuote(file: String, line: Int)
        case textAfterQuote(file: String, line: Int, field: Int)
        case quoteInsideField(file: String, line: Int, field: Int)
        case missingColumns(file: String, line: Int, missing: [String])
        case extraField(file: String, line: Int, field: Int)

        public var description: String {
            switch self {
            case .unterminatedQuote(let file, let line):
                return "\(file):\(line): quoted field is never closed"
            case .textAfterQuote(let file, let line, let field):
                return "\(file):\(line): field \(field): text after the closing quote"
            case .quoteInsideField(let file, let line, let field):
                return "\(file):\(line): field \(field): a quote inside an unquoted field"
            case .missingColumns(let file, let line, let missing):
                return "\(file):\(line): header lacks column(s) \(missing.joined(separator: ", "))"
            case .extraField(let file, let line, let field):
                return "\(file):\(line): field \(field) is beyond the table's columns and not empty"
            }
        }
    }

    /// Parses `text` (named `file` in errors) for the given columns. The header, when present, maps names to
    /// positions; without one the columns are taken in the given order. `disable` is always honoured if present.
    public static func parse(_ text: String, file: String, columns: [String]) throws(Error) -> [Row] {
        let records = try records(text, file: file)
        var positions: [Int?] = Array(0..<columns.count).map { Optional($0) }
        var disablePosition: Int? = columns.firstIndex(of: "disable")
        var headerWidth = columns.count
        var sawData = false
        var rows: [Row] = []
        for record in records {
            if record.isComment {
                // The first comment before any data is the header.
                if !sawData && rows.isEmpty && record.headerCandidate {
                    let names = record.fields.map { $0.trimmingASCIIWhitespace() }
                    let missing = columns.filter { !names.contains($0) }
                    if names.count > 1 && missing.count < columns.count {
                        if !missing.isEmpty {
                            throw .missingColumns(file: file, line: record.line, missing: missing)
                        }
                        positions = columns.map { names.firstIndex(of: $0) }
                        disablePosition = names.firstIndex(of: "disable")
                        headerWidth = names.count
                    }
                }
                continue
            }
            sawData = true
            let fields = record.fields
            if fields.count > headerWidth {
                for index in headerWidth..<fields.count where !fields[index].isEmpty {
                    throw .extraField(file: file, line: record.line, field: index + 1)
                }
            }
            if let disablePosition, disablePosition < fields.count {
                let flag = fields[disablePosition].asciiLowercased()
                if flag == "1" || flag == "yes" { continue }
            }
            let values = positions.map { position -> String in
                guard let position, position < fields.count else { return "" }
                return fields[position]
            }
            rows.append(Row(line: record.line, values: values))
        }
        return rows
    }

    struct Record {
        var line: Int
        var fields: [String]
        var isComment: Bool
        var headerCandidate: Bool
    }

    /// Splits the text into records, handling quotes.
    static func records(_ text: String, file: String) throws(Error) -> [Record] {
        let scalars = Array(text.unicodeScalars)
        var records: [Record] = []
        var position = 0
        var line = 1
        while position < scalars.count {
            let startLine = line
            // Skip leading blanks on the line to see whether it is empty or a comment.
            var probe = position
            while probe < scalars.count, scalars[probe] == " " || scalars[probe] == "\t" || scalars[probe] == "\r" {
                probe += 1
            }
            if probe >= scalars.count { break }
            if scalars[probe] == "\n" {
                position = probe + 1
                line += 1
                continue
            }
            var isComment = false
            if scalars[probe] == "#" {
                isComment = true
                probe += 1
            }
            position = probe
            if isComment {
                // Comments are not CSV: read to the end of the line; the header's names are split on commas.
                var text = String.UnicodeScalarView()
                while position < scalars.count && scalars[position] != "\n" {
                    text.append(scalars[position])
                    position += 1
                }
                if position < scalars.count { position += 1 }
                line += 1
                let names = String(text).splitKeepingEmpty(on: ",").map { name -> String in
                    var trimmed = name.trimmingASCIIWhitespace()
                    if trimmed.startsWith("\"") && trimmed.endsWith("\"") && trimmed.unicodeScalars.count >= 2 {
                        trimmed = trimmed.droppingScalars(1).droppingLastScalars(1)
                    }
                    return trimmed
                }
                records.append(Record(line: startLine, fields: names, isComment: true, headerCandidate: true))
                continue
            }
            var fields: [String] = []
            var field = String.UnicodeScalarView()
            var fieldQuoted = false
            var afterQuote = false
            var fieldIndex = 1
            var endOfRecord = false
            while position < scalars.count && !endOfRecord {
                let scalar = scalars[position]
                switch scalar {
                case "\"":
                    if afterQuote {
                        throw .textAfterQuote(file: file, line: startLine, field: fieldIndex)
                    }
                    if fieldQuoted || !String(field).trimmingASCIIWhitespace().isEmpty {
                        throw .quoteInsideField(file: file, line: startLine, field: fieldIndex)
                    }
                    // Quoted field: read to the closing quote, "" is a literal quote.
                    field = String.UnicodeScalarView()
                    fieldQuoted = true
                    position += 1
                    var closed = false
                    while position < scalars.count {
                        let inner = scalars[position]
                        if inner == "\"" {
                            if position + 1 < scalars.count && scalars[position + 1] == "\"" {
                                field.append("\"")
                                position += 2
                                continue
                            }
                            closed = true
                            position += 1
                            break
                        }
                        if inner == "\n" { line += 1 }
                        field.append(inner)
                        position += 1
                    }
                    if !closed { throw .unterminatedQuote(file: file, line: startLine) }
                    afterQuote = true
                case ",":
                    fields.append(fieldQuoted ? String(field) : String(field).trimmingASCIIWhitespace())
                    field = String.UnicodeScalarView()
                    fieldQuoted = false
                    afterQuote = false
                    fieldIndex += 1
                    position += 1
                case "\n":
                    endOfRecord = true
                    line += 1
                    position += 1
                case " ", "\t", "\r":
                    if !afterQuote { field.append(scalar) }
                    position += 1
                default:
                    if afterQuote {
                        throw .textAfterQuote(file: file, line: startLine, field: fieldIndex)
                    }
                    field.append(scalar)
                    position += 1
                }
            }
            fields.append(fieldQuoted ? String(field) : String(field).trimmingASCIIWhitespace())
            records.append(Record(line: startLine, fields: fields, isComment: false, headerCandidate: false))
        }
        return records
    }
}
