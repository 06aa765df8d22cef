/// modules.dep parsed: each module's file (relative to /lib/modules/<release>) and its
/// dependencies, and a load order that puts every dependency before its users.
public struct ModuleDependencies: Sendable {
    public struct Entry: Sendable, Equatable {
        public var path: String
        public var dependencies: [ModuleName]
    }

    public private(set) var entries: [ModuleName: Entry] = [:]

    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case unknownModule(ModuleName)
        case dependencyCycle([ModuleName])

        public var description: String {
            switch self {
            case .unknownModule(let name): "module \(name) is not in modules.dep"
            case .dependencyCycle(let chain):
                "modules.dep has a dependency cycle: \(chain.map(\.rawValue).joined(separator: " -> "))"
            }
        }
    }

    /// Lines look like "kernel/fs/nfs/nfsv4.ko: kernel/net/dns_resolver/dns_resolver.ko kernel/fs/nfs/nfs.ko".
    /// Lines without a colon are ignored (depmod writes none, but a hand-edited file may).
    public init(parsing text: String) {
        for line in text.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let path = line[..<colon].trimmingSpaces()
            if path.isEmpty { continue }
            let dependencies = line[line.index(after: colon)...]
                .split(whereSeparator: { $0 == " " || $0 == "\t" })
                .map { ModuleName(modulePath: $0) }
            entries[ModuleName(modulePath: path)] = Entry(path: String(path), dependencies: dependencies)
        }
    }

    public func entry(_ name: ModuleName) -> Entry? { entries[name] }

    /// The modules to load for `requested`, dependencies first, each once. Walks each module's own
    /// dependency list depth-first, so the order holds even if a line's list were not already sorted.
    /// Names in `skip` (built-in or loaded) are left out but their dependencies are still considered.
    public func loadOrder(for requested: [ModuleName], skipping skip: Set<ModuleName> = []) throws(Error)
        -> [ModuleName]
    {
        var order: [ModuleName] = []
        var done: Set<ModuleName> = []
        var inProgress: [ModuleName] = []

        func visit(_ name: ModuleName) throws(Error) {
            if done.contains(name) { return }
            if let start = inProgress.firstIndex(of: name) {
                throw .dependencyCycle(Array(inProgress[start...]) + [name])
            }
            guard let entry = entries[name] else { throw .unknownModule(name) }
            inProgress.append(name)
            for dependency in entry.dependencies { try visit(dependency) }
            inProgress.removeLast()
            done.insert(name)
            if !skip.contains(name) { order.append(name) }
        }

        for name in requested {
            if skip.contains(name) && entries[name] == nil { continue }
            try visit(name)
        }
        return order
    }
}

extension Substring {
    func trimmingSpaces() -> Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" || first == "\r" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" || last == "\r" { text = text.dropLast() }
        return text
    }
}
