/// Which firmware files go into the initramfs, where, and in what form: the pure half of the builder's firmware step
/// (the I/O half, in `InitramfsBuild`, reads the modules and the firmware directory).
///
/// A driver asks the kernel's firmware loader for a file by name (`request_firmware("rtl_nic/rtl8168h-2.fw")`).
/// Without udev the kernel reads it straight from the root file system, looking in `/lib/firmware/updates/<uname
/// -r>`, `/lib/firmware/updates`, `/lib/firmware/<uname -r>` and `/lib/firmware` (drivers/base/firmware_loader/
/// main.c, `fw_path`), each for the plain name, then `<name>.zst` and `<name>.xz` when the kernel was built with
/// `CONFIG_FW_LOADER_COMPRESS_ZSTD`/`_XZ`. The init loads drivers before switch_root, so the files a NIC needs to
/// come up must be in the initramfs under `lib/firmware`.
public enum FirmwareSelection {
    /// Where the kernel looks, as an archive directory (the initramfs is `/` when the drivers probe).
    public static let archiveDirectory = "lib/firmware"

    /// The compressed forms the kernel's direct loader may read (file suffix `.zst`, `.xz`).
    public enum Compression: String, Sendable, CaseIterable {
        case zst, xz

        public var suffix: String { "." + rawValue }
    }

    /// What the kernel can decompress by itself, from its build configuration (`/boot/config-<version>`).
    public struct LoaderSupport: Equatable, Sendable {
        public var xz: Bool
        public var zstd: Bool
        /// False when no configuration was found: every compressed file is then decompressed at build time.
        public var known: Bool

        public init(xz: Bool, zstd: Bool, known: Bool = true) {
            self.xz = xz
            self.zstd = zstd
            self.known = known
        }

        public static let unknown = LoaderSupport(xz: false, zstd: false, known: false)

        /// `CONFIG_FW_LOADER_COMPRESS_XZ=y` / `_ZSTD=y` (kernel 5.19 on); before them `CONFIG_FW_LOADER_COMPRESS=y`
        /// alone meant xz (5.3 to 5.18). `=m` is impossible for these options, and anything else means no.
        public init(kernelConfig text: String) {
            var values: [String: String] = [:]
            for line in text.split(whereSeparator: \.isNewline) {
                if line.hasPrefix("# CONFIG_FW_LOADER"), line.hasSuffix(" is not set") {
                    let name = line.dropFirst(2).prefix { $0 != " " }
                    values[String(name)] = "n"
                } else if line.hasPrefix("CONFIG_FW_LOADER"), let equals = line.firstIndex(of: "=") {
                    values[String(line[..<equals])] = String(line[line.index(after: equals)...])
                }
            }
            let compress = values["CONFIG_FW_LOADER_COMPRESS"] == "y"
            let split = values["CONFIG_FW_LOADER_COMPRESS_XZ"] != nil || values["CONFIG_FW_LOADER_COMPRESS_ZSTD"] != nil
            xz = compress && (split ? values["CONFIG_FW_LOADER_COMPRESS_XZ"] == "y" : true)
            zstd = compress && values["CONFIG_FW_LOADER_COMPRESS_ZSTD"] == "y"
            known = true
        }

        public func loads(_ compression: Compression) -> Bool {
            switch compression {
            case .xz: xz
            case .zst: zstd
            }
        }

        public var description: String {
            guard known else { return "kernel configuration not found: compressed firmware is decompressed" }
            let formats = [xz ? "xz" : nil, zstd ? "zstd" : nil].compactMap { $0 }
            return formats.isEmpty
                ? "the kernel loads no compressed firmware: .xz/.zst files are decompressed"
                : "the kernel loads \(formats.joined(separator: " and ")) firmware as is"
        }
    }

    /// Why a declared name cannot be looked up (absolute, `..`, empty components, control characters), nil when
    /// it is a plain relative path. The kernel refuses `..` too (`fw_get_filesystem_firmware`).
    public static func problem(withName name: String) -> String? {
        if name.isEmpty { return "empty name" }
        if name.hasPrefix("/") { return "absolute name" }
        if name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
            return "control characters in the name"
        }
        if name.contains("*") || name.contains("?") || name.contains("[") {
            return "a pattern, not a file name (not expanded)"
        }
        for component in name.split(separator: "/", omittingEmptySubsequences: false) {
            if component.isEmpty || component == "." || component == ".." {
                return "empty, . or .. component"
            }
        }
        return nil
    }

    /// The files to look for in a firmware directory (laid out as `/lib/firmware`), in the kernel's order: each
    /// search directory, and in it the plain name, then `.zst`, then `.xz`. The first that exists is the one the
    /// kernel would load from that tree.
    /// `directory` is the search directory (`updates/<version>/`, `updates/`, `<version>/` or empty) the path is in.
    public static func searchOrder(for name: String, kernelVersion: String)
        -> [(directory: String, path: String, compression: Compression?)]
    {
        var directories = ["updates/" + kernelVersion + "/", "updates/", kernelVersion + "/", ""]
        if kernelVersion.isEmpty || problem(withName: kernelVersion) != nil { directories = ["updates/", ""] }
        var result: [(directory: String, path: String, compression: Compression?)] = []
        for directory in directories {
            result.append((directory, directory + name, nil))
            result.append((directory, directory + name + Compression.zst.suffix, .zst))
            result.append((directory, directory + name + Compression.xz.suffix, .xz))
        }
        return result
    }

    /// Where a found file goes. `resolved` is the file the lookup ended on (after symlinks), relative to the
    /// firmware directory; `compression` what its suffix said. A form the kernel loads is packed as it is, under
    /// its own name, and the declared name becomes a symlink to it when the two differ (Debian's firmware trees
    /// hold such links, e.g. `intel/ice/ddp/ice.pkg -> ice-1.3.30.0.pkg`). A form it cannot load is decompressed
    /// at build time and packed under the declared name itself.
    public static func placement(
        declared name: String, resolved: String, compression: Compression?, support: LoaderSupport
    ) -> Placement {
        if let compression, !support.loads(compression) {
            return Placement(
                file: archiveDirectory + "/" + name, decompress: compression, link: nil)
        }
        let suffix = compression?.suffix ?? ""
        let file = archiveDirectory + "/" + resolved
        let requested = archiveDirectory + "/" + name + suffix
        return Placement(file: file, decompress: nil, link: requested == file ? nil : requested)
    }

    public struct Placement: Equatable, Sendable {
        /// The archive path of the file's data.
        public var file: String
        /// Decompress with this format before packing (the kernel cannot).
        public var decompress: Compression?
        /// The declared name's archive path, a symlink to `/` + `file`, when it is not `file` itself.
        public var link: String?
    }
}

/// What the build found of the firmware its modules declare, for the summary and `--verbose`.
public struct FirmwareReport: Equatable, Sendable {
    public enum Outcome: Equatable, Sendable {
        /// Packed: its archive path, its size there, and how it was found (`via` a symlink, decompressed...).
        case packed(archivePath: String, bytes: UInt64, note: String?)
        /// Declared by more than one module, or reached through another name: packed once already.
        case shared(archivePath: String)
        /// Not in any firmware directory under any name the kernel tries.
        case missing
        /// Found but unusable (a link out of the directory, a file that will not decompress...).
        case refused(String)
    }

    public struct Declared: Equatable, Sendable {
        public var name: String
        public var outcome: Outcome
        public init(name: String, outcome: Outcome) {
            self.name = name
            self.outcome = outcome
        }
    }

    public struct Module: Equatable, Sendable {
        public var name: String
        public var firmware: [Declared]
        public init(name: String, firmware: [Declared]) {
            self.name = name
            self.firmware = firmware
        }
    }

    /// Modules that declare firmware, by name.
    public var modules: [Module] = []
    /// Modules whose declarations could not be read, with the reason.
    public var unreadable: [(module: String, reason: String)] = []
    /// The directories searched, in order.
    public var directories: [String] = []
    public var support = FirmwareSelection.LoaderSupport.unknown
    /// `--without-firmware`.
    public var disabled = false

    public init() {}

    public static func == (a: FirmwareReport, b: FirmwareReport) -> Bool {
        a.modules == b.modules && a.directories == b.directories && a.support == b.support && a.disabled == b.disabled
            && a.unreadable.map(\.module) == b.unreadable.map(\.module)
            && a.unreadable.map(\.reason) == b.unreadable.map(\.reason)
    }

    public var declaredCount: Int { modules.reduce(0) { $0 + $1.firmware.count } }
    public var packedBytes: UInt64 {
        modules.reduce(0) { total, module in
            module.firmware.reduce(total) { sum, declared in
                if case .packed(_, let bytes, _) = declared.outcome { return sum + bytes }
                return sum
            }
        }
    }

    func count(_ matches: (Outcome) -> Bool) -> Int {
        modules.reduce(0) { $0 + $1.firmware.filter { matches($0.outcome) }.count }
    }

    public var foundCount: Int {
        count {
            switch $0 {
            case .packed, .shared: true
            default: false
            }
        }
    }
    public var missingCount: Int { count { $0 == .missing } }
    public var refusedCount: Int {
        count {
            if case .refused = $0 { return true }
            return false
        }
    }

    /// The build's firmware lines: one summary line, the modules missing some (name and count), the unreadable
    /// ones; with `verbose`, one line per declared file.
    public func lines(verbose: Bool) -> [String] {
        if disabled {
            return ["initramfs: firmware: none packed (--without-firmware); \(declaredCount) files declared"]
        }
        var out: [String] = []
        let where_ = directories.isEmpty ? "no firmware directory" : directories.joined(separator: ", ")
        out.append(
            "initramfs: firmware: \(declaredCount) files declared by \(modules.count) modules, \(foundCount) found "
                + "(\(packedBytes) bytes), \(missingCount) missing"
                + (refusedCount > 0 ? ", \(refusedCount) refused" : "") + " (from \(where_); \(support.description))")
        let incomplete = modules.compactMap { module -> String? in
            let missing = module.firmware.filter {
                switch $0.outcome {
                case .missing, .refused: true
                default: false
                }
            }.count
            return missing == 0 ? nil : "\(module.name) (\(missing) of \(module.firmware.count))"
        }
        if !incomplete.isEmpty {
            out.append("initramfs: firmware missing for: \(incomplete.joined(separator: ", "))")
        }
        for entry in unreadable {
            out.append("initramfs: firmware of \(entry.module) unknown: \(entry.reason)")
        }
        guard verbose else { return out }
        for module in modules {
            for declared in module.firmware {
                let text: String
                switch declared.outcome {
                case .packed(let path, let bytes, let note):
                    text = "packed as \(path), \(bytes) bytes" + (note.map { " (\($0))" } ?? "")
                case .shared(let path): text = "packed already as \(path)"
                case .missing: text = "MISSING"
                case .refused(let reason): text = "REFUSED: \(reason)"
                }
                out.append("initramfs: firmware: \(module.name): \(declared.name): \(text)")
            }
        }
        return out
    }
}
