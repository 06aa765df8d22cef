import InitramfsImage
import LayerCompression
import NodeSys
import SystemPackage

/// The firmware the shipped modules declare, looked up in the firmware directories (laid out as `/lib/firmware`:
/// the image root's, or the site's `--firmware-dir`): what to pack, the symlinks to write, and the report.
/// Lookups are confined to each directory (`openat2(RESOLVE_IN_ROOT)` for the parents, each symlink followed by
/// hand): a link that leaves the directory is refused by name, never followed outside.
struct FirmwareCollector {
    /// One file's data to pack.
    struct PackedFile {
        var archivePath: String
        var tree: ConfinedTree
        /// Path inside `tree` of the regular file (after symlinks).
        var inTree: String
        var decompress: FirmwareSelection.Compression?
        /// Its size in the archive (after decompression).
        var size: UInt64
        /// Decompressed data, held when `decompress` is set (the archive header needs the size first).
        var data: [UInt8]?
    }

    private(set) var files: [PackedFile] = []
    /// (archive path, target) symlinks: declared names that are links in the firmware tree, or that name a
    /// compressed file the kernel reads under its suffixed name.
    private(set) var links: [(name: String, target: String)] = []
    private(set) var report = FirmwareReport()

    /// Reads the `firmware=` entries of every module in `closure` (from `modulesDirectory`, `.ko.zst`, `.ko.gz`
    /// and `.ko.xz` decompressed first) and looks each up in `directories`, first match wins.
    init(
        modules: [ModuleName], dependencies: ModuleDependencies, modulesDirectory: String, directories: [String],
        kernelVersion: String, support: FirmwareSelection.LoaderSupport
    ) {
        report.support = support
        var trees: [ConfinedTree] = []
        for directory in directories where FileSystem.isDirectory(directory) {
            if let tree = try? ConfinedTree(directory) {
                trees.append(tree)
                report.directories.append(directory)
            }
        }
        var packedPaths: [String: Int] = [:]  // archive path -> index in files
        var linkNames: Set<String> = []
        for module in modules {
            guard let entry = dependencies.entry(module) else { continue }
            let declared: [String]
            do {
                declared = try ModuleInfo.firmware(
                    inModule: try Self.moduleBytes(modulesDirectory + "/" + entry.path))
            } catch {
                report.unreadable.append((module.rawValue, "\(error)"))
                continue
            }
            guard !declared.isEmpty else { continue }
            var outcomes: [FirmwareReport.Declared] = []
            for name in declared {
                if let problem = FirmwareSelection.problem(withName: name) {
                    outcomes.append(.init(name: name, outcome: .refused(problem)))
                    continue
                }
                let found = Self.lookUp(name, in: trees, kernelVersion: kernelVersion)
                switch found {
                case .missing:
                    outcomes.append(.init(name: name, outcome: .missing))
                case .refused(let reason):
                    outcomes.append(.init(name: name, outcome: .refused(reason)))
                case .found(let tree, let inTree, let directory, let compression, let size, let viaLink):
                    // A file found in updates/ (or a version directory) is packed under lib/firmware itself.
                    let resolved = inTree.hasPrefix(directory) ? String(inTree.dropFirst(directory.count)) : inTree
                    let placement = FirmwareSelection.placement(
                        declared: name, resolved: resolved, compression: compression, support: support)
                    if let index = packedPaths[placement.file] {
                        outcomes.append(.init(name: name, outcome: .shared(archivePath: files[index].archivePath)))
                    } else {
                        var file = PackedFile(
                            archivePath: placement.file, tree: tree, inTree: inTree,
                            decompress: placement.decompress, size: UInt64(max(0, size)), data: nil)
                        var note: [String] = []
                        if let format = placement.decompress {
                            do {
                                let data = try Self.decompress(tree: tree, inTree: inTree, format: format)
                                file.data = data
                                file.size = UInt64(data.count)
                                note.append("decompressed from \(format.rawValue): the kernel cannot")
                            } catch {
                                outcomes.append(.init(name: name, outcome: .refused("\(inTree): \(error)")))
                                continue
                            }
                        }
                        if viaLink { note.append("through the symlink \(name)") }
                        if tree.path != report.directories.first { note.append("from \(tree.path)") }
                        packedPaths[placement.file] = files.count
                        files.append(file)
                        outcomes.append(
                            .init(
                                name: name,
                                outcome: .packed(
                                    archivePath: placement.file, bytes: file.size,
                                    note: note.isEmpty ? nil : note.joined(separator: ", "))))
                    }
                    if let link = placement.link, packedPaths[link] == nil, linkNames.insert(link).inserted {
                        links.append((link, "/" + placement.file))
                    }
                }
            }
            report.modules.append(FirmwareReport.Module(name: module.rawValue, firmware: outcomes))
        }
        // A link that names a file packed later keeps the file (the data wins).
        links.removeAll { packedPaths[$0.name] != nil }
    }

    /// The module file's bytes, decompressed by its suffix.
    static func moduleBytes(_ path: String) throws -> [UInt8] {
        if path.hasSuffix(".ko.xz") {
            return try ChildCommand.output(["xz", "-dc", "--", path], limit: 512 << 20)
        }
        let bytes = try FileContents.bytes(at: path, limit: 512 << 20)
        if path.hasSuffix(".ko.zst") { return try decompressInMemory(bytes, format: .zstd) }
        if path.hasSuffix(".ko.gz") { return try decompressInMemory(bytes, format: .gzip) }
        return bytes
    }

    static func decompressInMemory(_ input: [UInt8], format: CompressionFormat, limit: Int = 512 << 20) throws
        -> [UInt8]
    {
        let decompressor = try StreamDecompressor(format)
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        try input.withUnsafeBytes { source in
            decompressor.supply(source)
            while true {
                let produced = try chunk.withUnsafeMutableBytes { try decompressor.decompress(into: $0) }
                if produced == 0 { break }
                output.append(contentsOf: chunk[0..<produced])
                if output.count > limit { throw FirmwareError.tooLarge(limit: limit) }
            }
        }
        try decompressor.finish()
        return output
    }

    /// A compressed firmware file the kernel cannot read, decompressed (zstd with libzstd, xz with the `xz` tool).
    static func decompress(tree: ConfinedTree, inTree: String, format: FirmwareSelection.Compression) throws
        -> [UInt8]
    {
        switch format {
        case .xz:
            return try ChildCommand.output(["xz", "-dc", "--", tree.path + "/" + inTree], limit: 256 << 20)
        case .zst:
            let fd = try tree.openFileForReading(inTree)
            defer { FileTree.closeQuietly(fd) }
            let status = try FileTree.status(of: fd, path: inTree)
            var bytes = [UInt8](repeating: 0, count: Int(status.size))
            var filled = 0
            while filled < bytes.count {
                let got = try bytes.withUnsafeMutableBytes { buffer in
                    try FileTree.read(
                        fd, into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]), at: Int64(filled),
                        path: inTree)
                }
                if got == 0 { break }
                filled += got
            }
            return try decompressInMemory(Array(bytes[0..<filled]), format: .zstd, limit: 256 << 20)
        }
    }

    enum FirmwareError: Swift.Error, CustomStringConvertible {
        case tooLarge(limit: Int)

        var description: String {
            switch self {
            case .tooLarge(let limit): "decompresses to more than \(limit) bytes"
            }
        }
    }

    enum LookUp {
        case found(
            ConfinedTree, inTree: String, directory: String, FirmwareSelection.Compression?, size: Int64,
            viaLink: Bool)
        case missing
        case refused(String)
    }

    /// The first file the kernel would load for `name` from the first directory that has one.
    static func lookUp(_ name: String, in trees: [ConfinedTree], kernelVersion: String) -> LookUp {
        for tree in trees {
            for candidate in FirmwareSelection.searchOrder(for: name, kernelVersion: kernelVersion) {
                switch resolve(candidate.path, in: tree) {
                case .absent: continue
                case .refused(let reason): return .refused(reason)
                case .file(let path, let size, let viaLink):
                    return .found(
                        tree, inTree: path, directory: candidate.directory, candidate.compression, size: size,
                        viaLink: viaLink)
                }
            }
        }
        return .missing
    }

    enum Resolved {
        case file(String, size: Int64, viaLink: Bool)
        case absent
        case refused(String)
    }

    /// Follows `path` inside the tree through at most 40 symlinks (the kernel's limit), each target read and
    /// applied by hand: relative targets against the link's directory, absolute ones only when they point into
    /// `/lib/firmware` or `/usr/lib/firmware` (then taken inside this tree).
    static func resolve(_ start: String, in tree: ConfinedTree) -> Resolved {
        var path = start
        var viaLink = false
        for _ in 0..<40 {
            let status: FileStatus?
            do {
                status = try tree.status(path)
            } catch {
                return .refused("\(error)")
            }
            guard let status else { return .absent }
            switch status.kind {
            case .regular:
                return .file(path, size: status.size, viaLink: viaLink)
            case .symlink:
                let target: String
                do {
                    let (directory, name) = try tree.openParent(path)
                    defer { FileTree.closeQuietly(directory) }
                    target = try FileTree.readLink(in: directory, name ?? ".")
                } catch {
                    return .refused("reading the symlink \(path): \(error)")
                }
                guard let next = nextPath(link: path, target: target) else {
                    return .refused("the symlink \(path) -> \(target) leaves \(tree.path)")
                }
                path = next
                viaLink = true
            case .directory:
                return .refused("\(path) in \(tree.path) is a directory")
            default:
                return .refused("\(path) in \(tree.path) is not a regular file")
            }
        }
        return .refused("\(start) in \(tree.path): more than 40 symlinks")
    }

    /// The path a link at `link` (inside the tree) with `target` leads to, lexically; nil when it leaves the tree.
    static func nextPath(link: String, target: String) -> String? {
        var base: [Substring]
        var rest = Substring(target)
        if target.hasPrefix("/") {
            var matched = false
            for prefix in ["/lib/firmware/", "/usr/lib/firmware/"] where target.hasPrefix(prefix) {
                rest = target.dropFirst(prefix.count)
                matched = true
                break
            }
            guard matched else { return nil }
            base = []
        } else {
            base = link.split(separator: "/").dropLast()
        }
        for component in rest.split(separator: "/", omittingEmptySubsequences: true) {
            if component == "." { continue }
            if component == ".." {
                guard !base.isEmpty else { return nil }
                base.removeLast()
            } else {
                base.append(component)
            }
        }
        guard !base.isEmpty else { return nil }
        return base.joined(separator: "/")
    }
}
