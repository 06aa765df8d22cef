import InitramfsImage
import LayerCompression
import NodeSys
import SystemPackage

public enum InitramfsCompression: String, Sendable, CaseIterable {
    case zstd, gzip, none

    /// zstd 19 (about 11 MB for Debian's kernel), gzip 9.
    public var defaultLevel: Int32? {
        switch self {
        case .zstd: 19
        case .gzip: 9
        case .none: nil
        }
    }
}

/// What to build. Defaults are those of `make initramfs`, except `initPath`: the running binary, so that the
/// static `nodeinit` alone (in a WalT image, say) packs itself.
public struct InitramfsOptions: Sendable {
    public var kernelVersion: String?
    /// Default /lib/modules/<kernelVersion>.
    public var modulesDirectory: String?
    public var initPath = "/proc/self/exe"
    /// nil: no busybox (and so no debug shell).
    public var busyboxPath: String? = "/bin/busybox"
    /// Names that may be absent from the kernel (a list meant for many kernels): reported and skipped.
    public var listedModules = ModuleList.names(parsing: ModuleList.defaultText)
    /// Names asked for one by one (`--add-module`): absent is an error.
    public var extraModules: [String] = []
    /// (source file, archive path) pairs.
    public var extraFiles: [(source: String, destination: String)] = []
    /// Module names left out (`--exclude-module`): dropped from the list and from `extraModules`; one that another
    /// shipped module depends on is still shipped, and the summary says which needs it.
    public var excludedModules: [String] = []
    /// Where the modules' firmware is looked up, in order, each laid out as `/lib/firmware`. nil: the image
    /// root's `lib/firmware` (the root that holds `lib/modules/<version>`, `/` for `/lib/modules/<version>`).
    public var firmwareDirectories: [String]? = nil
    /// Pack no firmware (the report still says what the modules declare).
    public var withoutFirmware = false
    /// The kernel's build configuration, which says whether it loads `.xz`/`.zst` firmware. nil: the image
    /// root's `boot/config-<version>`, when it exists.
    public var kernelConfigPath: String? = nil
    public var outputPath = "build/initramfs.img"
    public var compression = InitramfsCompression.zstd
    public var level: Int32?
    /// zstd threads (0: compress on the calling thread only).
    public var compressionWorkers: Int32 = Int32(clamping: Processors.onlineCount)

    public init() {}
}

public struct InitramfsSummary: Sendable {
    public var outputPath: String
    public var kernelVersion: String
    public var modules: Int
    public var builtin: [String]
    public var unknown: [String]
    public var uncompressedBytes: UInt64
    public var compressedBytes: UInt64
    public var compression: InitramfsCompression
    /// The modules' firmware: declared, packed, missing.
    public var firmware = FirmwareReport()
    /// Excluded names shipped all the same, with a module that needs them.
    public var excludedButNeeded: [(module: String, neededBy: String)] = []
    /// Excluded names that were not asked for anyway.
    public var excludedUnused: [String] = []
}

/// Builds the nodeinit initramfs as `initramfs/mkinitramfs.py` does, archive entry for entry (see
/// `InitramfsLayout` for the fixed part): the archive is streamed through the compressor into a temporary
/// file renamed over `outputPath` at the end, so memory stays bounded and a reader never sees half an archive.
///
/// The module index files come from `depmod -b` run on a staging copy of exactly the shipped modules, as the
/// Python builder does: the init's `ModuleLoader` reads modules.dep, modules.alias and modules.builtin, and
/// busybox's modprobe in the debug shell reads the same text files.
public enum InitramfsBuilder {
    public static func build(_ options: InitramfsOptions) throws(Error) -> InitramfsSummary {
        guard options.kernelVersion != nil || options.modulesDirectory != nil else { throw .noKernelVersion }
        let modulesDirectory = options.modulesDirectory ?? "/lib/modules/\(options.kernelVersion ?? "")"
        let kernelVersion = options.kernelVersion ?? lastComponent(of: modulesDirectory)
        guard FileSystem.isDirectory(modulesDirectory) else { throw .modulesDirectoryMissing(modulesDirectory) }

        let initFile = try openInput(options.initPath, what: "init binary")
        defer { try? initFile.fd.close() }
        guard initFile.status.permissions & 0o111 != 0 else {
            throw .notExecutable(what: "init", path: options.initPath)
        }
        var busybox: (fd: FileDescriptor, status: FileStatus, path: String)?
        if let path = options.busyboxPath {
            let opened = try openInput(path, what: "busybox")
            busybox = (opened.fd, opened.status, path)
            let linkage = try elfLinkage(of: opened.fd, path: path)
            guard linkage == .staticExecutable else { throw .notStatic(what: "busybox", path: path, linkage) }
        }
        defer { try? busybox?.fd.close() }

        let closure = try moduleClosure(options, modulesDirectory: modulesDirectory)
        let dependencies = try readDependencies(modulesDirectory)
        let exclusion = Self.exclusionReport(options, closure: closure, dependencies: dependencies)

        let imageRoot = Self.imageRoot(modulesDirectory: modulesDirectory, kernelVersion: kernelVersion)
        let support = try Self.loaderSupport(options, imageRoot: imageRoot, kernelVersion: kernelVersion)
        let firmware = FirmwareCollector(
            modules: closure.modules, dependencies: dependencies, modulesDirectory: modulesDirectory,
            directories: options.firmwareDirectories ?? imageRoot.map { [$0 + "/lib/firmware"] } ?? [],
            kernelVersion: kernelVersion, support: support)

        let outputDirectory = parentDirectory(of: options.outputPath)
        do {
            try FileSystem.makeDirectory(outputDirectory)
        } catch {
            throw .output(path: options.outputPath, "\(error)")
        }
        let stage: ModuleStage
        do {
            stage = try ModuleStage(
                in: outputDirectory, kernelVersion: kernelVersion, modulesDirectory: modulesDirectory)
        } catch {
            throw .staging(path: outputDirectory, "\(error)")
        }
        defer { stage.remove() }
        try stage.copy(closure, dependencies: dependencies)
        try stage.regenerateIndex()
        try stage.writeTable()

        let applets: [String]
        if let busybox {
            do {
                applets = InitramfsLayout.busyboxAppletLinks(
                    listing: String(decoding: try ChildCommand.output([busybox.path, "--list-full"]), as: UTF8.self))
            } catch {
                throw .busyboxApplets(error)
            }
        } else {
            applets = []
        }

        let output: AtomicOutputFile
        do {
            output = try AtomicOutputFile.create(at: options.outputPath)
        } catch {
            throw .output(path: options.outputPath, "\(error)")
        }
        var committed = false
        defer { if !committed { output.discard() } }
        let sink: CompressingFileSink
        do {
            sink = try CompressingFileSink(
                fd: output.fd, path: output.temporaryPath, compression: options.compression,
                level: options.level ?? options.compression.defaultLevel, workers: options.compressionWorkers)
        } catch {
            throw .compression("\(error)")
        }
        var archive = CpioNewcWriter(sink: sink)
        do {
            for directory in InitramfsLayout.directories { try archive.directory(Array(directory.utf8)) }
            for node in InitramfsLayout.deviceNodes {
                try archive.characterDevice(
                    Array(node.name.utf8), major: node.major, minor: node.minor, permissions: node.permissions)
            }
            try streamFile(
                initFile.fd, size: initFile.status.size, path: options.initPath, as: "init", permissions: 0o755,
                into: &archive)
            try archive.directory(Array("proc/self".utf8))
            try archive.symlink(
                Array(InitramfsLayout.selfExecutableLink.name.utf8),
                target: Array(InitramfsLayout.selfExecutableLink.target.utf8))
            if let busybox {
                try streamFile(
                    busybox.fd, size: busybox.status.size, path: busybox.path, as: InitramfsLayout.busyboxPath,
                    permissions: 0o755, into: &archive)
                for applet in applets {
                    try archive.symlink(Array(applet.utf8), target: Array(("/" + InitramfsLayout.busyboxPath).utf8))
                }
            }
            for extra in options.extraFiles {
                let file = try openInput(extra.source, what: "--add-file source")
                defer { try? file.fd.close() }
                try streamFile(
                    file.fd, size: file.status.size, path: extra.source, as: extra.destination,
                    permissions: file.status.permissions, into: &archive)
            }
            try addTree(stage.kernelDirectory, as: "lib/modules/\(kernelVersion)", into: &archive)
            if !options.withoutFirmware { try addFirmware(firmware, into: &archive) }
            try archive.finish()
            try archive.sink.finish()
        } catch let error as Error {
            throw error
        } catch {
            throw .archive("\(error)")
        }
        do {
            try output.commit()
        } catch {
            throw .output(path: options.outputPath, "\(error)")
        }
        committed = true
        var report = firmware.report
        report.disabled = options.withoutFirmware
        return InitramfsSummary(
            outputPath: options.outputPath, kernelVersion: kernelVersion, modules: closure.modules.count,
            builtin: closure.builtin, unknown: closure.unknown, uncompressedBytes: archive.offset,
            compressedBytes: archive.sink.bytesWritten, compression: options.compression, firmware: report,
            excludedButNeeded: exclusion.neededAnyway, excludedUnused: exclusion.unused)
    }

    // MARK: - Firmware

    /// The root holding `lib/modules/<version>` (and so `lib/firmware`, `boot/config-<version>`), "" for `/`;
    /// nil when the modules directory is elsewhere.
    static func imageRoot(modulesDirectory: String, kernelVersion: String) -> String? {
        var directory = modulesDirectory
        while directory.count > 1 && directory.hasSuffix("/") { directory.removeLast() }
        let tail = "lib/modules/" + kernelVersion
        guard directory == tail || directory.hasSuffix("/" + tail) else { return nil }
        var root = String(directory.dropLast(tail.count))
        while root.hasSuffix("/") { root.removeLast() }
        return root.isEmpty && !directory.hasPrefix("/") ? "." : root
    }

    static func loaderSupport(_ options: InitramfsOptions, imageRoot: String?, kernelVersion: String) throws(Error)
        -> FirmwareSelection.LoaderSupport
    {
        let path: String
        if let given = options.kernelConfigPath {
            path = given
        } else if let imageRoot, FileSystem.exists(imageRoot + "/boot/config-" + kernelVersion) {
            path = imageRoot + "/boot/config-" + kernelVersion
        } else {
            return .unknown
        }
        do {
            return FirmwareSelection.LoaderSupport(kernelConfig: try FileContents.string(at: path))
        } catch {
            throw .kernelConfigUnreadable(error)
        }
    }

    /// The collected firmware into the archive: each file under `lib/firmware` (sorted, so the archive is the same
    /// for the same inputs), then the symlinks of the declared names.
    static func addFirmware(
        _ firmware: FirmwareCollector, into archive: inout CpioNewcWriter<CompressingFileSink>
    ) throws {
        for file in firmware.files.sorted(by: { $0.archivePath < $1.archivePath }) {
            let name = Array(file.archivePath.utf8)
            if let data = file.data {
                try archive.file(name, permissions: 0o644, contents: data)
                continue
            }
            let path = file.tree.path + "/" + file.inTree
            let fd: FileDescriptor
            do {
                fd = try file.tree.openFileForReading(file.inTree)
            } catch {
                throw Error.firmwareUnreadable(path: path, "\(error)")
            }
            defer { FileTree.closeQuietly(fd) }
            let status: FileStatus
            do {
                status = try FileTree.status(of: fd, path: path)
            } catch {
                throw Error.read(path: path, error)
            }
            try streamFile(fd, size: status.size, path: path, as: name, permissions: 0o644, into: &archive)
        }
        for link in firmware.links.sorted(by: { $0.name < $1.name }) where !archive.contains(Array(link.name.utf8)) {
            try archive.symlink(Array(link.name.utf8), target: Array(link.target.utf8))
        }
    }

    /// Which excluded names were shipped anyway (a kept module depends on them) or never asked for.
    static func exclusionReport(_ options: InitramfsOptions, closure: ModuleClosure, dependencies: ModuleDependencies)
        -> (neededAnyway: [(module: String, neededBy: String)], unused: [String])
    {
        let requested = Set((options.listedModules + options.extraModules).map { ModuleName($0) })
        var needed: [(module: String, neededBy: String)] = []
        var unused: [String] = []
        for raw in options.excludedModules {
            let name = ModuleName(raw)
            if closure.modules.contains(name) {
                let user = closure.modules.first { dependencies.entry($0)?.dependencies.contains(name) == true }
                needed.append((raw, user?.rawValue ?? "a soft dependency"))
            } else if !requested.contains(name) {
                unused.append(raw)
            }
        }
        return (needed, unused)
    }

    // MARK: - Modules

    static func readDependencies(_ modulesDirectory: String) throws(Error) -> ModuleDependencies {
        let path = modulesDirectory + "/modules.dep"
        guard FileSystem.exists(path) else { throw .moduleIndexMissing(path) }
        do {
            return ModuleDependencies(parsing: try FileContents.string(at: path))
        } catch {
            throw .moduleIndexUnreadable(error)
        }
    }

    static func moduleClosure(_ options: InitramfsOptions, modulesDirectory: String) throws(Error) -> ModuleClosure {
        let dependencies = try readDependencies(modulesDirectory)
        func optional(_ name: String) throws(Error) -> String {
            let path = modulesDirectory + "/" + name
            guard FileSystem.exists(path) else { return "" }
            do {
                return try FileContents.string(at: path)
            } catch {
                throw .moduleIndexUnreadable(error)
            }
        }
        do {
            let excluded = Set(options.excludedModules.map { ModuleName($0) })
            return try ModuleClosure(
                lenient: options.listedModules.filter { !excluded.contains(ModuleName($0)) },
                strict: options.extraModules.filter { !excluded.contains(ModuleName($0)) }, dependencies: dependencies,
                builtin: KernelModuleLists.builtin(parsing: try optional("modules.builtin")),
                aliases: ModuleAliases(parsing: try optional("modules.alias")),
                softDependencies: ModuleSoftDependencies(parsing: try optional("modules.softdep")),
                modulesDirectory: modulesDirectory)
        } catch let error as ModuleClosure.Error {
            throw .moduleClosure(error)
        } catch let error as Error {
            throw error
        } catch {
            throw .archive("\(error)")
        }
    }

    // MARK: - Files into the archive

    static func openInput(_ path: String, what: String) throws(Error) -> (fd: FileDescriptor, status: FileStatus) {
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec])
        } catch {
            throw .inputMissing(
                what: what, path: path, .system(operation: "open", path: path, errno: Errno(thrown: error)))
        }
        let status: FileStatus
        do {
            status = try FileTree.status(of: fd, path: path)
        } catch {
            try? fd.close()
            throw .inputMissing(what: what, path: path, error)
        }
        guard status.kind == .regular else {
            try? fd.close()
            throw .notARegularFile(what: what, path: path)
        }
        return (fd, status)
    }

    static func elfLinkage(of fd: FileDescriptor, path: String) throws(Error) -> ELFLinkage {
        var prefix = try readPrefix(fd, count: 64, path: path)
        guard let needed = ELFLinkage.bytesNeeded(header: prefix) else { return .notELF }
        if needed > prefix.count { prefix = try readPrefix(fd, count: needed, path: path) }
        return ELFLinkage.classify(prefix)
    }

    private static func readPrefix(_ fd: FileDescriptor, count: Int, path: String) throws(Error) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got: Int
            let result = bytes.withUnsafeMutableBytes { buffer in
                Result { () throws(FileTree.Error) -> Int in
                    try FileTree.read(
                        fd, into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]), at: Int64(filled),
                        path: path)
                }
            }
            switch result {
            case .success(let count): got = count
            case .failure(let error): throw .read(path: path, error)
            }
            if got == 0 { break }
            filled += got
        }
        return Array(bytes[0..<filled])
    }

    /// Streams `size` bytes of `fd` into the archive in 256 KiB pieces (pread from offset 0: the descriptor
    /// may have been read for its ELF header already).
    static func streamFile(
        _ fd: FileDescriptor, size: Int64, path: String, as name: String, permissions: UInt32,
        into archive: inout CpioNewcWriter<CompressingFileSink>
    ) throws {
        try streamFile(fd, size: size, path: path, as: Array(name.utf8), permissions: permissions, into: &archive)
    }

    static func streamFile(
        _ fd: FileDescriptor, size: Int64, path: String, as name: [UInt8], permissions: UInt32,
        into archive: inout CpioNewcWriter<CompressingFileSink>
    ) throws {
        try archive.beginFile(name, permissions: permissions, size: UInt64(size))
        FileTree.adviseSequential(fd)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)
        defer { buffer.deallocate() }
        var offset: Int64 = 0
        while offset < size {
            let want = Int(min(Int64(buffer.count), size - offset))
            let got: Int
            do {
                got = try FileTree.read(
                    fd, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]), at: offset, path: path)
            } catch {
                throw Error.read(path: path, error)
            }
            if got == 0 { throw Error.changedWhileRead(path: path, declared: size, read: offset) }
            try archive.writeData(UnsafeRawBufferPointer(rebasing: buffer[0..<got]))
            offset += Int64(got)
        }
        try archive.finishFile()
    }

    /// Adds the tree at `path` as `name`, the way the Python builder's os.walk did: a directory's entry, then
    /// its files and symlinks by name, then its subdirectories by name, each the same way.
    static func addTree(
        _ path: String, as name: String, into archive: inout CpioNewcWriter<CompressingFileSink>
    ) throws {
        let directory: FileDescriptor
        do {
            directory = try FileTree.openAnchor(FilePath(path))
        } catch {
            throw Error.read(path: path, error)
        }
        defer { FileTree.closeQuietly(directory) }
        try addTree(directory, path: path, as: Array(name.utf8), into: &archive)
    }

    private static func addTree(
        _ directory: FileDescriptor, path: String, as name: [UInt8],
        into archive: inout CpioNewcWriter<CompressingFileSink>
    ) throws {
        try archive.directory(name)
        let listing: FileTree.Listing
        do {
            listing = try FileTree.list(directory, path: path)
        } catch {
            throw Error.read(path: path, error)
        }
        var subdirectories: [PathBytes] = []
        for entry in listing.entries {
            let entryPath = path + "/" + entry.description
            let archiveName = name + [UInt8(ascii: "/")] + entry.bytes
            do {
                let status = try FileTree.status(in: directory, entry)
                switch status.kind {
                case .directory:
                    subdirectories.append(entry)
                case .symlink:
                    try archive.symlink(archiveName, target: try FileTree.readLinkBytes(in: directory, entry).bytes)
                case .regular:
                    let file = try FileTree.openForReading(in: directory, entry)
                    defer { FileTree.closeQuietly(file) }
                    try streamFile(
                        file, size: status.size, path: entryPath, as: archiveName, permissions: status.permissions,
                        into: &archive)
                default:
                    continue  // no device nodes or FIFOs come from a modules directory
                }
            } catch let error as FileTree.Error {
                throw Error.read(path: entryPath, error)
            }
        }
        for entry in subdirectories {
            let child: FileDescriptor
            do {
                child = try FileTree.openDirectory(in: directory, entry)
            } catch {
                throw Error.read(path: path + "/" + entry.description, error)
            }
            defer { FileTree.closeQuietly(child) }
            try addTree(
                child, path: path + "/" + entry.description, as: name + [UInt8(ascii: "/")] + entry.bytes,
                into: &archive)
        }
    }

    // MARK: - Paths

    static func lastComponent(of path: String) -> String {
        let trimmed = path.reversed().drop(while: { $0 == "/" }).reversed()
        let text = String(trimmed)
        guard let slash = text.lastIndex(of: "/") else { return text }
        return String(text[text.index(after: slash)...])
    }

    static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let parent = String(path[..<slash])
        return parent.isEmpty ? "/" : parent
    }
}
