/// The module index of one kernel in the form the boot uses: every module with its dependencies already resolved
/// into load order, the names built into the kernel, and the modalias patterns sorted by their literal prefix so a
/// device's drivers are found by a few binary searches instead of a glob match against every pattern.
///
/// `nodeinit initramfs` computes it once for the shipped modules and writes it as `modules.nodeinit` next to the
/// depmod files; the init reads that file (`ModuleTable(parsing:)`). Without the file, or when it does not
/// describe the modules.dep, modules.alias and modules.builtin beside it, the init builds the same table from those
/// text files (`ModuleTable(dependencies:aliases:builtin:)`), as slowly as before and with the same results.
///
/// File format, version 1 (text, one record per line, fields separated by one space, `#` lines ignored):
///
///     nodeinit-module-table 1
///     kernel <release>
///     source <modules.dep> <modules.alias> <modules.builtin>    FNV-1a 64-bit of each file, 16 hex digits
///     module <name> <path> [<index>...]    path relative to the modules directory; indexes: its dependencies
///                                          (transitively), in load order; the index of a module is the number of
///                                          module lines before it
///     builtin <name>
///     alias <ordinal> <pattern> <index>    ordinal: the line's place in modules.alias (matches are returned in
///                                          that order); lines sorted by the pattern's literal prefix (the bytes
///                                          before its first `*`, `?` or `[`), then by ordinal
///
/// A reader refuses another version number; the record kinds above are all of version 1.
public struct ModuleTable: Sendable, Equatable {
    public static let fileName = "modules.nodeinit"
    public static let version = 1
    static let magic = "nodeinit-module-table"

    public struct Module: Sendable, Equatable {
        public var name: ModuleName
        /// Relative to the modules directory, as modules.dep gives it.
        public var path: String
        /// Indexes of every module it needs, dependencies before their users.
        public var dependencies: [Int]
    }

    public struct Alias: Sendable, Equatable {
        /// Its line's place in modules.alias.
        public var ordinal: Int
        public var pattern: ModaliasGlob
        /// Index into `modules`.
        public var module: Int
        /// How many leading bytes of the pattern are literal.
        public var literalCount: Int

        var literal: ArraySlice<UInt8> { pattern.pattern[0..<literalCount] }
    }

    /// The three depmod files a table was computed from, by FNV-1a 64-bit hash.
    public struct Sources: Sendable, Equatable {
        public var dependencies: UInt64
        public var aliases: UInt64
        public var builtin: UInt64

        public init(dependencies: UInt64, aliases: UInt64, builtin: UInt64) {
            self.dependencies = dependencies
            self.aliases = aliases
            self.builtin = builtin
        }

        /// Hashes the files' bytes as read.
        public init(dependencies: [UInt8], aliases: [UInt8], builtin: [UInt8]) {
            self.init(
                dependencies: Self.fnv1a(dependencies), aliases: Self.fnv1a(aliases), builtin: Self.fnv1a(builtin))
        }

        public static func fnv1a(_ bytes: [UInt8]) -> UInt64 {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in bytes {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01b3
            }
            return hash
        }
    }

    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        /// The first line is not `nodeinit-module-table <n>`.
        case notATable
        case unsupportedVersion(String)
        case malformed(line: Int, String)
        /// Building from text: a module whose dependencies cannot be put in order.
        case unresolvable(ModuleName, ModuleDependencies.Error)

        public var description: String {
            switch self {
            case .notATable: "not a nodeinit module table (the first line is not \"\(ModuleTable.magic) <version>\")"
            case .unsupportedVersion(let version):
                "module table version \(version) is not supported (this nodeinit reads version \(ModuleTable.version))"
            case .malformed(let line, let what): "module table line \(line): \(what)"
            case .unresolvable(let name, let error): "module \(name): \(error)"
            }
        }
    }

    public private(set) var kernelRelease: String
    public private(set) var sources: Sources
    public private(set) var modules: [Module] = []
    public private(set) var builtin: Set<ModuleName> = []
    /// Sorted by literal prefix, then ordinal.
    public private(set) var aliases: [Alias] = []
    /// Modules whose dependencies could not be ordered (only when built from text at boot; the writer refuses them).
    public private(set) var unresolvable: [ModuleName: ModuleDependencies.Error] = [:]
    private var indexes: [ModuleName: Int] = [:]
    /// The distinct literal prefix lengths, ascending.
    private var literalLengths: [Int] = []

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.kernelRelease == rhs.kernelRelease && lhs.sources == rhs.sources && lhs.modules == rhs.modules
            && lhs.builtin == rhs.builtin && lhs.aliases == rhs.aliases && lhs.unresolvable == rhs.unresolvable
    }

    // MARK: building

    /// Computes the table from the parsed depmod files. Modules are indexed by name order; each module's
    /// dependencies are `ModuleDependencies.loadOrder` of it. Aliases naming a module modules.dep lacks are dropped.
    public init(
        dependencies: ModuleDependencies, aliases: ModuleAliases, builtin: Set<ModuleName>, kernelRelease: String,
        sources: Sources
    ) {
        self.kernelRelease = kernelRelease
        self.sources = sources
        self.builtin = builtin
        let names = dependencies.entries.keys.sorted()
        for (index, name) in names.enumerated() { indexes[name] = index }
        for name in names {
            let path = dependencies.entry(name)?.path ?? ""
            var order: [Int] = []
            do {
                for needed in try dependencies.loadOrder(for: [name]) where needed != name {
                    if let index = indexes[needed] { order.append(index) }
                }
            } catch {
                unresolvable[name] = error
            }
            modules.append(Module(name: name, path: path, dependencies: order))
        }
        var sorted: [Alias] = []
        for (ordinal, alias) in aliases.aliases.enumerated() {
            guard let module = indexes[alias.module] else { continue }
            sorted.append(
                Alias(
                    ordinal: ordinal, pattern: alias.pattern, module: module,
                    literalCount: alias.pattern.literalPrefixCount))
        }
        self.aliases = sorted.sorted(by: Self.precedes)
        literalLengths = Self.lengths(of: self.aliases)
    }

    /// The file's text.
    public var text: String {
        var lines = ["\(Self.magic) \(Self.version)", "kernel \(kernelRelease)"]
        lines.append(
            "source \(Self.hex(sources.dependencies)) \(Self.hex(sources.aliases)) \(Self.hex(sources.builtin))")
        for module in modules {
            let dependencies = module.dependencies.map { " \($0)" }.joined()
            lines.append("module \(module.name) \(module.path)\(dependencies)")
        }
        for name in builtin.sorted() { lines.append("builtin \(name)") }
        for alias in aliases { lines.append("alias \(alias.ordinal) \(alias.pattern) \(alias.module)") }
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: reading

    /// Reads a table file. Checks every index; the order of the lines is not trusted (aliases are sorted again).
    public init(parsing bytes: [UInt8]) throws(Error) {
        kernelRelease = ""
        sources = Sources(dependencies: 0, aliases: 0, builtin: 0)
        var lineNumber = 0
        var aliasModules: [(Int, Int)] = []  // (line, module index), checked once all modules are read
        var dependencyLines: [Int] = []  // the line of each module
        var sawHeader = false
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
            lineNumber += 1
            let fields = Self.fields(bytes[start..<end])
            start = end + 1
            if !sawHeader {
                guard fields.count == 2, Self.string(fields[0]) == Self.magic else { throw .notATable }
                guard Self.string(fields[1]) == "\(Self.version)" else {
                    throw .unsupportedVersion(Self.string(fields[1]))
                }
                sawHeader = true
                continue
            }
            guard let kind = fields.first, kind.first != UInt8(ascii: "#") else { continue }
            switch Self.string(kind) {
            case "kernel":
                guard fields.count == 2 else { throw .malformed(line: lineNumber, "kernel takes one field") }
                kernelRelease = Self.string(fields[1])
            case "source":
                guard fields.count == 4, let dep = Self.hexValue(fields[1]), let alias = Self.hexValue(fields[2]),
                    let builtin = Self.hexValue(fields[3])
                else { throw .malformed(line: lineNumber, "source takes three 16-digit hex hashes") }
                sources = Sources(dependencies: dep, aliases: alias, builtin: builtin)
            case "module":
                guard fields.count >= 3 else { throw .malformed(line: lineNumber, "module needs a name and a path") }
                var dependencies: [Int] = []
                for field in fields[3...] {
                    guard let index = Self.decimal(field) else {
                        throw .malformed(line: lineNumber, "dependency \(Self.string(field)) is not a module index")
                    }
                    dependencies.append(index)
                }
                dependencyLines.append(lineNumber)
                let name = ModuleName(Self.string(fields[1]))
                guard indexes[name] == nil else { throw .malformed(line: lineNumber, "module \(name) listed twice") }
                indexes[name] = modules.count
                modules.append(Module(name: name, path: Self.string(fields[2]), dependencies: dependencies))
            case "builtin":
                guard fields.count == 2 else { throw .malformed(line: lineNumber, "builtin takes one name") }
                builtin.insert(ModuleName(Self.string(fields[1])))
            case "alias":
                guard fields.count == 4, let ordinal = Self.decimal(fields[1]), let module = Self.decimal(fields[3])
                else { throw .malformed(line: lineNumber, "alias takes an ordinal, a pattern and a module index") }
                let pattern = ModaliasGlob(bytes: Array(fields[2]))
                aliasModules.append((lineNumber, module))
                aliases.append(
                    Alias(ordinal: ordinal, pattern: pattern, module: module, literalCount: pattern.literalPrefixCount))
            default:
                throw .malformed(line: lineNumber, "unknown record \(Self.string(kind))")
            }
        }
        guard sawHeader else { throw .notATable }
        for (line, module) in aliasModules where module >= modules.count {
            throw .malformed(line: line, "alias names module index \(module), but there are \(modules.count)")
        }
        for (index, module) in modules.enumerated() {
            if let bad = module.dependencies.first(where: { $0 >= modules.count || $0 == index }) {
                throw .malformed(
                    line: dependencyLines[index],
                    "dependency \(bad) of \(module.name) is not the index of another module (there are \(modules.count))")
            }
        }
        aliases.sort(by: Self.precedes)
        literalLengths = Self.lengths(of: aliases)
    }

    // MARK: use

    public func index(of name: ModuleName) -> Int? { indexes[name] }

    public func module(_ name: ModuleName) -> Module? { indexes[name].map { modules[$0] } }

    /// The modules to load for `requested`, dependencies first, each once; as `ModuleDependencies.loadOrder`, names
    /// in `skip` are left out (their dependencies are still listed).
    public func loadOrder(for requested: [ModuleName], skipping skip: Set<ModuleName> = []) throws(
        ModuleDependencies.Error
    ) -> [ModuleName] {
        var order: [ModuleName] = []
        var done: Set<Int> = []
        for name in requested {
            guard let index = indexes[name] else {
                if skip.contains(name) { continue }
                throw .unknownModule(name)
            }
            if let error = unresolvable[name] { throw error }
            for needed in modules[index].dependencies + [index] where !done.contains(needed) {
                done.insert(needed)
                if !skip.contains(modules[needed].name) { order.append(modules[needed].name) }
            }
        }
        return order
    }

    /// The modules whose alias pattern matches `modalias`, in modules.alias order, each once.
    public func modules(matching modalias: String) -> [ModuleName] {
        let subject = Array(modalias.utf8)
        var found: [(ordinal: Int, module: Int)] = []
        for length in literalLengths {
            if length > subject.count { break }
            var index = lowerBound(subject[0..<length])
            while index < aliases.count, aliases[index].literalCount == length,
                aliases[index].literal.elementsEqual(subject[0..<length])
            {
                if aliases[index].pattern.matches(subject) {
                    found.append((aliases[index].ordinal, aliases[index].module))
                }
                index += 1
            }
        }
        found.sort { $0.ordinal < $1.ordinal }
        var result: [ModuleName] = []
        for match in found where !result.contains(modules[match.module].name) {
            result.append(modules[match.module].name)
        }
        return result
    }

    /// The first alias whose (literal prefix, literal length) is not before (`literal`, its length).
    private func lowerBound(_ literal: ArraySlice<UInt8>) -> Int {
        var low = 0
        var high = aliases.count
        while low < high {
            let middle = (low + high) / 2
            if Self.compare(aliases[middle], literal) < 0 { low = middle + 1 } else { high = middle }
        }
        return low
    }

    // MARK: ordering

    /// Aliases ordered by literal prefix bytes, a shorter prefix before the longer one it begins, then by ordinal.
    static func precedes(_ a: Alias, _ b: Alias) -> Bool {
        let order = compare(a.literal, b.literal)
        return order != 0 ? order < 0 : a.ordinal < b.ordinal
    }

    private static func compare(_ alias: Alias, _ literal: ArraySlice<UInt8>) -> Int {
        compare(alias.literal, literal)
    }

    private static func compare(_ x: ArraySlice<UInt8>, _ y: ArraySlice<UInt8>) -> Int {
        for (a, b) in zip(x, y) where a != b { return a < b ? -1 : 1 }
        return x.count == y.count ? 0 : (x.count < y.count ? -1 : 1)
    }

    private static func lengths(of aliases: [Alias]) -> [Int] {
        Set(aliases.map(\.literalCount)).sorted()
    }

    // MARK: fields

    private static func fields(_ line: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var fields: [ArraySlice<UInt8>] = []
        var index = line.startIndex
        while index < line.endIndex {
            while index < line.endIndex && (line[index] == UInt8(ascii: " ") || line[index] == UInt8(ascii: "\r")) {
                index += 1
            }
            let start = index
            while index < line.endIndex && line[index] != UInt8(ascii: " ") && line[index] != UInt8(ascii: "\r") {
                index += 1
            }
            if index > start { fields.append(line[start..<index]) }
        }
        return fields
    }

    private static func string(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }

    private static func decimal(_ bytes: ArraySlice<UInt8>) -> Int? {
        guard !bytes.isEmpty, bytes.count <= 9 else { return nil }
        var value = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    private static func hexValue(_ bytes: ArraySlice<UInt8>) -> UInt64? {
        guard bytes.count == 16 else { return nil }
        var value: UInt64 = 0
        for byte in bytes {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            default: return nil
            }
            value = value << 4 | UInt64(digit)
        }
        return value
    }

    static func hex(_ value: UInt64) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        for shift in stride(from: 60, through: 0, by: -4) { bytes.append(digits[Int((value >> UInt64(shift)) & 0xf)]) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension ModaliasGlob {
    public init(bytes: [UInt8]) { self.pattern = bytes }

    /// The number of leading bytes before the first `*`, `?` or `[`: every subject the pattern matches starts
    /// with them.
    public var literalPrefixCount: Int {
        pattern.firstIndex { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "[") }
            ?? pattern.count
    }
}
