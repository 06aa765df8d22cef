/// The node-side commands' argument syntax, declared as data. The node's `/init` parses its own few options with
/// this (swift-argument-parser needs FoundationEssentials, several megabytes of every initramfs); the server-side
/// `nodeinit` keeps swift-argument-parser for its commands and hands these over unchanged.
///
/// Accepted forms: `--name value`, `--name=value`, flags `--name`, `--` before positionals that start with `-`,
/// and `-h`/`--help`. A repeated single-value option keeps its last value, as swift-argument-parser does.
public struct CommandSpec: Sendable {
    public struct Option: Sendable {
        public var name: String
        /// Nil for a flag; else what the value is, for the help (`<port>`).
        public var valueName: String?
        public var repeatable: Bool
        public var help: String
        public var defaultText: String?

        public static func flag(_ name: String, help: String) -> Option {
            Option(name: name, valueName: nil, repeatable: false, help: help, defaultText: nil)
        }

        public static func value(
            _ name: String, _ valueName: String, repeatable: Bool = false, help: String, default: String? = nil
        ) -> Option {
            Option(name: name, valueName: valueName, repeatable: repeatable, help: help, defaultText: `default`)
        }
    }

    public var name: String
    public var abstract: String
    public var discussion: String?
    public var options: [Option]
    /// How positionals show in the usage line (`<verb>`), empty when the command takes none.
    public var positionalUsage: String
    public var maximumPositionals: Int

    public init(
        name: String, abstract: String, discussion: String? = nil, options: [Option] = [],
        positionalUsage: String = "", maximumPositionals: Int = 0
    ) {
        self.name = name
        self.abstract = abstract
        self.discussion = discussion
        self.options = options
        self.positionalUsage = positionalUsage
        self.maximumPositionals = maximumPositionals
    }

    /// `OVERVIEW`, `USAGE` and `OPTIONS` in swift-argument-parser's layout.
    public var help: String {
        var text = "OVERVIEW: \(abstract)\n"
        if let discussion { text += "\n\(discussion)\n" }
        text += "\nUSAGE: nodeinit \(name)" + (options.isEmpty ? "" : " [<options>]")
        text += positionalUsage.isEmpty ? "\n" : " \(positionalUsage)\n"
        text += "\nOPTIONS:\n"
        var rows = options.map { option in
            let left = option.name + (option.valueName.map { " <\($0)>" } ?? "")
            var right = option.help
            if let defaultText = option.defaultText { right += " (default: \(defaultText))" }
            return (left, right)
        }
        rows.append(("-h, --help", "Show help information."))
        let width = min(30, rows.map(\.0.count).max() ?? 0)
        for (left, right) in rows {
            if left.count > width {
                text += "  \(left)\n" + String(repeating: " ", count: width + 4) + "\(right)\n"
            } else {
                text += "  \(left)" + String(repeating: " ", count: width - left.count + 2) + "\(right)\n"
            }
        }
        return text
    }

    /// Parses `arguments` (those after the command's name).
    public func parse(_ arguments: [String]) throws(UsageError) -> ParsedArguments {
        var parsed = ParsedArguments(command: name)
        var index = 0
        var onlyPositionals = false
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if onlyPositionals || !argument.hasPrefix("-") || argument == "-" {
                parsed.positionals.append(argument)
                continue
            }
            if argument == "--" {
                onlyPositionals = true
                continue
            }
            if argument == "-h" || argument == "--help" { throw .helpRequested(help) }
            let (name, inlineValue) = Self.split(argument)
            guard let option = options.first(where: { $0.name == name }) else {
                throw .invalid(command: self.name, "unknown option '\(name)'")
            }
            guard option.valueName != nil else {
                if inlineValue != nil { throw .invalid(command: self.name, "\(name) takes no value") }
                parsed.flags.insert(name)
                continue
            }
            let value: String
            if let inlineValue {
                value = inlineValue
            } else {
                guard index < arguments.count else {
                    throw .invalid(command: self.name, "missing value for '\(name) <\(option.valueName ?? "value")>'")
                }
                value = arguments[index]
                index += 1
            }
            if option.repeatable {
                parsed.values[name, default: []].append(value)
            } else {
                parsed.values[name] = [value]
            }
        }
        if parsed.positionals.count > maximumPositionals {
            let extra = parsed.positionals[maximumPositionals...].joined(separator: " ")
            throw .invalid(command: name, "unexpected argument '\(extra)'")
        }
        return parsed
    }

    private static func split(_ argument: String) -> (String, String?) {
        guard let equals = argument.firstIndex(of: "=") else { return (argument, nil) }
        return (String(argument[..<equals]), String(argument[argument.index(after: equals)...]))
    }
}

/// Why a command line was not run: a malformed one (exit 64, as swift-argument-parser's validation errors) or a
/// request for help (exit 0).
public enum UsageError: Error, Equatable, CustomStringConvertible {
    case invalid(command: String, String)
    case helpRequested(String)

    public var description: String {
        switch self {
        case .invalid(let command, let message): "Error: \(message)\nUsage: see 'nodeinit \(command) --help'"
        case .helpRequested(let help): help
        }
    }
}

/// The options and positionals one command line gave.
public struct ParsedArguments: Sendable {
    public var command: String
    public var values: [String: [String]] = [:]
    public var flags: Set<String> = []
    public var positionals: [String] = []

    public init(command: String) { self.command = command }

    public func value(_ name: String) -> String? { values[name]?.last }
    public func values(_ name: String) -> [String] { values[name] ?? [] }
    public func flag(_ name: String) -> Bool { flags.contains(name) }

    public func integer(_ name: String, default fallback: Int) throws(UsageError) -> Int {
        guard let text = value(name) else { return fallback }
        guard let number = Int(text) else {
            throw .invalid(command: command, "\(name) takes a whole number, not '\(text)'")
        }
        return number
    }

    public func invalid(_ message: String) -> UsageError { .invalid(command: command, message) }
}
