/// modules.softdep parsed: "softdep <module> pre: <names...> post: <names...>" lines. Only the `pre:` names
/// matter to an initramfs: they must be loadable before the module (e.g. ext4 wants crc32c), while `post:`
/// modules are optional extras. A name may be a module or an alias (`crypto-crc32c`).
public struct ModuleSoftDependencies: Sendable, Equatable {
    public private(set) var pre: [ModuleName: [String]] = [:]

    public init(parsing text: String) {
        for line in text.split(whereSeparator: \.isNewline) {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            guard words.count >= 3, words[0] == "softdep" else { continue }
            let module = ModuleName(words[1])
            var inPre = false
            for word in words[2...] {
                if word == "pre:" || word == "post:" {
                    inPre = word == "pre:"
                } else if inPre {
                    pre[module, default: []].append(String(word))
                }
            }
        }
    }
}

/// The set of modules an initramfs must ship for a list of requested names: each requested module, everything
/// modules.dep says it needs, and what its `pre:` soft dependencies name, transitively.
public struct ModuleClosure: Sendable, Equatable {
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        /// A name asked for explicitly that is neither a module of this kernel nor built into it.
        case unknownModule(String, modulesDirectory: String)
        /// modules.dep names a dependency it has no line for (a stale or hand-edited index).
        case missingDependency(ModuleName, neededBy: ModuleName, modulesDirectory: String)

        public var description: String {
            switch self {
            case .unknownModule(let name, let directory):
                "module \(name) is neither in \(directory)/modules.dep nor in \(directory)/modules.builtin"
            case .missingDependency(let name, let user, let directory):
                "module \(user) needs \(name), which \(directory)/modules.dep does not list "
                    + "(run depmod for this kernel again)"
            }
        }
    }

    /// Every module to ship, sorted by name.
    public var modules: [ModuleName]
    /// Requested names that are built into the kernel (nothing to ship).
    public var builtin: [String]
    /// Requested names this kernel does not have at all (skipped for a lenient request).
    public var unknown: [String]

    /// Computes the closure. `lenient` names (the default list, a list file) may be unknown: kernels differ,
    /// so they are reported and skipped; a `strict` name that is unknown is an error.
    public init(
        lenient: [String], strict: [String] = [], dependencies: ModuleDependencies,
        builtin builtinModules: Set<ModuleName>,
        aliases: ModuleAliases, softDependencies: ModuleSoftDependencies, modulesDirectory: String
    ) throws(Error) {
        var stack: [ModuleName] = []
        var builtin: [String] = []
        var unknown: [String] = []
        for (raw, isStrict) in lenient.map({ ($0, false) }) + strict.map({ ($0, true) }) {
            let name = ModuleName(raw)
            if dependencies.entry(name) != nil {
                stack.append(name)
            } else if builtinModules.contains(name) {
                builtin.append(raw)
            } else if isStrict {
                throw .unknownModule(raw, modulesDirectory: modulesDirectory)
            } else {
                unknown.append(raw)
            }
        }
        var wanted: Set<ModuleName> = []
        while let name = stack.popLast() {
            if wanted.contains(name) { continue }
            wanted.insert(name)
            guard let entry = dependencies.entry(name) else { continue }
            for dependency in entry.dependencies where !wanted.contains(dependency) {
                // A dependency built into the kernel is nothing to ship (depmod never writes one, but be safe).
                if dependencies.entry(dependency) == nil {
                    if builtinModules.contains(dependency) { continue }
                    throw .missingDependency(dependency, neededBy: name, modulesDirectory: modulesDirectory)
                }
                stack.append(dependency)
            }
            for word in softDependencies.pre[name] ?? [] {
                for module in Self.resolve(word, dependencies: dependencies, aliases: aliases)
                where !wanted.contains(module) {
                    stack.append(module)
                }
            }
        }
        modules = wanted.sorted()
        self.builtin = builtin
        self.unknown = unknown
    }

    /// A soft dependency names a module, or an alias that modules.alias maps to modules (all of them, sorted;
    /// none when the alias is only provided by the kernel image itself).
    static func resolve(_ word: String, dependencies: ModuleDependencies, aliases: ModuleAliases) -> [ModuleName] {
        let direct = ModuleName(word)
        if dependencies.entry(direct) != nil { return [direct] }
        let subject = Array(word.utf8)
        var found: Set<ModuleName> = []
        for alias in aliases.aliases where alias.pattern.matches(subject) && dependencies.entry(alias.module) != nil {
            found.insert(alias.module)
        }
        return found.sorted()
    }
}
