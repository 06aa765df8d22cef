import ArgumentParser
import LayerApply
import OverlayCapture
import SystemPackage

/// `nodeinit apply <layer> <image-dir>`: applies an OCI layer (plain, gzip or zstd tar) to a directory image.
struct ApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract:
            "Apply an OCI layer tar (plain, gzip or zstd) to a directory image, refusing entries that would leave it.")

    @Argument(help: "The layer file, or - for stdin.")
    var layer: String

    @Argument(help: "The image directory to change in place.")
    var imageDirectory: String

    func run() throws {
        let input: FileDescriptor = layer == "-" ? .standardInput : try FileDescriptor.open(FilePath(layer), .readOnly)
        defer { if layer != "-" { try? input.close() } }
        let summary = try LayerApplier.apply(FileDescriptorSource(input), to: FilePath(imageDirectory))
        var line = "apply: \(summary.entries) entries: \(summary.files) files (\(summary.bytes) bytes), "
        line += "\(summary.directories) directories, \(summary.symlinks) symlinks, \(summary.hardLinks) hard links, "
        line += "\(summary.specialFiles) special files, \(summary.whiteouts) deletions, "
        line += "\(summary.opaqueDirectories) opaque directories\n"
        _ = try? FileDescriptor.standardError.writeAll(Array(line.utf8))
    }
}
