import InitramfsImage
import NodeSys
import SystemPackage

/// A private directory holding `lib/modules/<kver>` with copies of exactly the shipped modules, on which
/// `depmod -b` regenerates modules.dep, modules.alias, modules.softdep... for that subset. It lives next to the
/// output (one file system, no /tmp size limit) and is removed at the end whatever happens.
struct ModuleStage {
    let root: String
    let kernelVersion: String
    let modulesDirectory: String
    var kernelDirectory: String { "\(root)/lib/modules/\(kernelVersion)" }

    init(in directory: String, kernelVersion: String, modulesDirectory: String) throws {
        root = try PathOperations.makeUniqueDirectory(prefix: "\(directory)/.nodeinit-initramfs-")
        self.kernelVersion = kernelVersion
        self.modulesDirectory = modulesDirectory
        do {
            try FileSystem.makeDirectory("\(root)/lib/modules/\(kernelVersion)")
        } catch {
            remove()
            throw error
        }
    }

    func remove() {
        guard let parent = FileTree.openAnchorParent(FilePath(root)) else { return }
        defer { FileTree.closeQuietly(parent) }
        try? FileTree.removeTree(in: parent, PathBytes(InitramfsBuilder.lastComponent(of: root)))
    }

    /// Copies each module (and modules.builtin, modules.builtin.modinfo), keeping their permissions; writes
    /// modules.order filtered to the shipped modules.
    func copy(_ closure: ModuleClosure, dependencies: ModuleDependencies) throws(InitramfsBuilder.Error) {
        var shipped: Set<Substring> = []
        for module in closure.modules {
            guard let entry = dependencies.entry(module) else { continue }
            try copyFile(entry.path)
            shipped.insert(Substring(entry.path))
        }
        for name in InitramfsLayout.copiedIndexFiles where FileSystem.exists("\(modulesDirectory)/\(name)") {
            try copyFile(name)
        }
        let orderPath = "\(modulesDirectory)/modules.order"
        if FileSystem.exists(orderPath) {
            let text: String
            do {
                text = try FileContents.string(at: orderPath)
            } catch {
                throw .moduleIndexUnreadable(error)
            }
            var filtered = ""
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            let lastIsComplete = lines.last?.isEmpty ?? true
            if lastIsComplete { lines.removeLast() }
            for (index, line) in lines.enumerated() where shipped.contains(line.trimmingWhitespace()) {
                filtered += line
                if index < lines.count - 1 || lastIsComplete { filtered += "\n" }
            }
            do {
                // 0666 before the umask, as Python's open("w") created it.
                try FileContents.write(
                    filtered, to: "\(kernelDirectory)/modules.order", mode: FilePermissions(rawValue: 0o666))
            } catch {
                throw .staging(path: kernelDirectory, "\(error)")
            }
        }
    }

    /// Runs `depmod -b ROOT KVER`, then drops the symbol indexes nothing at boot reads.
    func regenerateIndex() throws(InitramfsBuilder.Error) {
        let depmod = try Self.findDepmod()
        do {
            try ChildCommand.run([depmod, "-b", root, kernelVersion])
        } catch {
            throw .depmod(error)
        }
        for name in InitramfsLayout.unneededIndexFiles { PathOperations.removeFile("\(kernelDirectory)/\(name)") }
    }

    /// Computes the boot's module table (`ModuleTable`) from the index depmod just wrote and writes it as
    /// `modules.nodeinit` beside it; returns it for the summary.
    @discardableResult
    func writeTable() throws(InitramfsBuilder.Error) -> ModuleTable {
        func read(_ name: String) throws(InitramfsBuilder.Error) -> [UInt8] {
            let path = "\(kernelDirectory)/\(name)"
            guard FileSystem.exists(path) else { return [] }
            do {
                return try FileContents.bytes(at: path)
            } catch {
                throw .moduleIndexUnreadable(error)
            }
        }
        let dependencies = try read("modules.dep")
        let aliases = try read("modules.alias")
        let builtin = try read("modules.builtin")
        let table = ModuleTable(
            dependencies: ModuleDependencies(parsing: String(decoding: dependencies, as: UTF8.self)),
            aliases: ModuleAliases(parsing: String(decoding: aliases, as: UTF8.self)),
            builtin: KernelModuleLists.builtin(parsing: String(decoding: builtin, as: UTF8.self)),
            kernelRelease: kernelVersion,
            sources: ModuleTable.Sources(dependencies: dependencies, aliases: aliases, builtin: builtin))
        if let (name, error) = table.unresolvable.min(by: { $0.key < $1.key }) {
            throw .moduleTable("\(ModuleTable.Error.unresolvable(name, error))")
        }
        do {
            try FileContents.write(
                table.text, to: "\(kernelDirectory)/\(ModuleTable.fileName)", mode: FilePermissions(rawValue: 0o644))
        } catch {
            throw .staging(path: kernelDirectory, "\(error)")
        }
        return table
    }

    static func findDepmod() throws(InitramfsBuilder.Error) -> String {
        // Kernel postinst hooks may run with a PATH lacking the sbin directories.
        let searchPath = (Environment.value("PATH") ?? "").split(separator: ":").map(String.init)
        let candidates = searchPath + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        for directory in candidates where !directory.isEmpty {
            let path = "\(directory)/depmod"
            if FileSystem.exists(path) { return path }
        }
        throw .depmodNotFound(searched: candidates)
    }

    /// Copies `relative` from the modules directory to the same place under the stage with the kernel's
    /// sendfile, then gives it the source's permission bits (not subject to the umask, like cp -p).
    private func copyFile(_ relative: String) throws(InitramfsBuilder.Error) {
        let source = "\(modulesDirectory)/\(relative)"
        let destination = "\(kernelDirectory)/\(relative)"
        let input = try InitramfsBuilder.openInput(source, what: "module file")
        defer { try? input.fd.close() }
        do {
            try FileSystem.makeDirectory(InitramfsBuilder.parentDirectory(of: destination))
            let parent = try FileTree.openAnchor(FilePath(InitramfsBuilder.parentDirectory(of: destination)))
            defer { FileTree.closeQuietly(parent) }
            let name = PathBytes(InitramfsBuilder.lastComponent(of: destination))
            let output = try FileTree.createFile(in: parent, name, permissions: 0o600)
            defer { FileTree.closeQuietly(output) }
            let copied = try FileTree.sendFile(
                input.fd, offset: 0, count: input.status.size, to: output, path: source)
            guard copied == input.status.size else {
                throw InitramfsBuilder.Error.changedWhileRead(path: source, declared: input.status.size, read: copied)
            }
            try FileTree.changeMode(in: parent, name, permissions: input.status.permissions)
        } catch let error as InitramfsBuilder.Error {
            throw error
        } catch {
            throw .staging(path: destination, "\(error)")
        }
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" || first == "\r" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" || last == "\r" { text = text.dropLast() }
        return text
    }
}
