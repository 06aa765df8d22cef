import ArgumentParser
import InitramfsBuild
import InitramfsImage
import NodeSys
import SystemPackage

extension InitramfsCompression: ExpressibleByArgument {}

/// `nodeinit initramfs`: writes the nodeinit initramfs for a kernel's modules, packing the node's binary
/// (`nodeinit-node` beside this one, else this very binary) as /init by default, so a WalT image's kernel postinst
/// hook needs nothing but the two static binaries.
struct InitramfsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "initramfs",
        abstract: "Write the nodeinit initramfs (newc cpio, zstd/gzip) for a kernel's modules.",
        discussion: """
            The archive holds /init, busybox and its applets, /dev/console and /dev/null, and the modules of the \
            compiled-in list (--print-modules-list) or --modules-list FILE, with their dependencies and pre soft \
            dependencies; depmod (kmod) regenerates the module index for exactly that set. The firmware those \
            modules declare (modinfo's firmware=) is packed under lib/firmware, where the kernel loads it without \
            udev, from the image root's lib/firmware or --firmware-dir.
            """)

    @Option(help: "Kernel version (default: the last component of --modules-dir).")
    var kver: String?

    @Option(help: "The kernel's modules directory (default: /lib/modules/KVER).")
    var modulesDir: String?

    @Option(help: "The executable to pack as /init (default: nodeinit-node beside this binary, else this binary).")
    var `init`: String?

    @Option(help: "A statically linked busybox, for the debug shell.")
    var busybox: String = "/bin/busybox"

    @Flag(help: "Pack no busybox (the debug shell then has nothing to run).")
    var withoutBusybox = false

    @Option(help: "A module list file (names, '#' comments) instead of the compiled-in list.")
    var modulesList: String?

    @Option(help: "One more module; unlike the list's names it must exist in this kernel (repeatable).")
    var addModule: [String] = []

    @Option(help: "SOURCE:DEST, one more file to pack (repeatable).")
    var addFile: [String] = []

    @Option(help: "A module to leave out, and its firmware (repeatable); one another module needs is kept.")
    var excludeModule: [String] = []

    @Option(help: "A file of module names to leave out (names, '#' comments).")
    var excludeList: String?

    @Option(
        help:
            "A firmware directory laid out as /lib/firmware (repeatable, searched in order; default: the image root's lib/firmware)."
    )
    var firmwareDir: [String] = []

    @Flag(help: "Pack no firmware.")
    var withoutFirmware = false

    @Option(help: "The kernel's config (default: the image root's boot/config-KVER): can it load .xz/.zst firmware?")
    var kernelConfig: String?

    @Flag(help: "Print each module's firmware, found or missing.")
    var verbose = false

    @Option(help: "The archive to write (replaced atomically).")
    var out: String = "build/initramfs.img"

    @Option(help: "zstd, gzip or none.")
    var compress: InitramfsCompression = .zstd

    @Option(help: "Compression level (zstd default 19, gzip 9).")
    var level: Int32?

    @Flag(help: "Print the compiled-in module list and exit.")
    var printModulesList = false

    @Flag(help: "Print nothing on success.")
    var quiet = false

    func run() throws {
        if printModulesList {
            print(ModuleList.defaultText, terminator: "")
            return
        }
        var options = InitramfsOptions()
        options.kernelVersion = kver
        options.modulesDirectory = modulesDir
        options.initPath = `init` ?? Self.nodeBinaryBesideThisOne() ?? "/proc/self/exe"
        options.busyboxPath = withoutBusybox ? nil : busybox
        if let modulesList {
            options.listedModules = ModuleList.names(parsing: try FileContents.string(at: modulesList))
        }
        options.extraModules = addModule
        options.excludedModules = excludeModule
        if let excludeList {
            options.excludedModules += ModuleList.names(parsing: try FileContents.string(at: excludeList))
        }
        options.firmwareDirectories = firmwareDir.isEmpty ? nil : firmwareDir
        options.withoutFirmware = withoutFirmware
        options.kernelConfigPath = kernelConfig
        options.extraFiles = try addFile.map { spec in
            guard let colon = spec.firstIndex(of: ":"), spec.index(after: colon) < spec.endIndex else {
                throw InitramfsBuilder.Error.extraFileSpec(spec)
            }
            return (String(spec[..<colon]), String(spec[spec.index(after: colon)...]))
        }
        options.outputPath = out
        options.compression = compress
        options.level = level
        let summary = try InitramfsBuilder.build(options)
        if quiet { return }
        var text = ""
        if !summary.builtin.isEmpty {
            text += "initramfs: built into the kernel: \(summary.builtin.joined(separator: " "))\n"
        }
        if !summary.unknown.isEmpty {
            text += "initramfs: not in this kernel, skipped: \(summary.unknown.joined(separator: " "))\n"
        }
        for kept in summary.excludedButNeeded {
            text += "initramfs: excluded \(kept.module) shipped all the same: \(kept.neededBy) needs it\n"
        }
        if !summary.excludedUnused.isEmpty {
            text += "initramfs: excluded but not in the list anyway: \(summary.excludedUnused.joined(separator: " "))\n"
        }
        for line in summary.firmware.lines(verbose: verbose) { text += line + "\n" }
        text += "initramfs: \(summary.outputPath): kernel \(summary.kernelVersion), \(summary.modules) modules, "
        text +=
            "\(summary.uncompressedBytes) bytes uncompressed, \(summary.compressedBytes) bytes \(summary.compression)\n"
        _ = try? FileDescriptor.standardOutput.writeAll(Array(text.utf8))
    }

    /// The node's binary (`nodeinit-node`, no server-side commands, a third of the size) next to this one, as
    /// `make static` and a package install both place it.
    static func nodeBinaryBesideThisOne() -> String? {
        guard let this = FileSystem.resolvedPath("/proc/self/exe"), let slash = this.lastIndex(of: "/") else {
            return nil
        }
        let candidate = String(this[..<slash]) + "/nodeinit-node"
        return FileSystem.exists(candidate) ? candidate : nil
    }
}
