import NodeSys
import OverlayCapture
import RuntimeLayout
import SystemPackage

/// `nodeinit capture`: writes the overlay upper as an OCI layer to stdout (for `ssh root@node nodeinit capture`).
public enum CaptureCommand: NodeCommand {
    public static let spec = CommandSpec(
        name: "capture", abstract: "Write the node's overlay changes to stdout as an OCI image layer (tar).",
        options: [
            .value("--upper", "upper", help: "Overlay upper directory.", default: RuntimeLayout.node.tmpfsUpperDir),
            .value(
                "--merged", "merged",
                help: "Merged overlay view (metacopy data, /etc/nodeinit/save-exclude, user and group names).",
                default: "/"),
            .flag(
                "--walt",
                help: "Capture walt-init's overlay (WalT nodes): the upper is found from /bin/walt-env under --merged; "
                    + "WalT's own boot files are left out."),
            .value(
                "--exclude", "exclude", repeatable: true,
                help: "Extra exclusion pattern (absolute path, * and ? allowed). Repeatable."),
            .flag("--no-default-excludes", help: "Do not apply the built-in exclusion list."),
            .value(
                "--placed", "placed", help: "Boot-placed manifest; entries still as the init placed them are left out.",
                default: BootPlacedManifest.defaultPath),
            .value("--compress", "compress", help: "Compression: none, gzip or zstd.", default: "none"),
            .value("--summary", "summary", help: "Write the change summary as JSON to this file."),
            .flag("--per-path", help: "List every captured path in the summary."),
        ])

    public static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let compress = arguments.value("--compress") ?? "none"
        guard let compression = LayerCompressionFormat(rawValue: compress) else {
            throw arguments.invalid("--compress must be none, gzip or zstd, not '\(compress)'")
        }
        if ProcessControls.isTerminal(.standardOutput) {
            throw arguments.invalid("refusing to write a binary layer to a terminal; redirect stdout")
        }
        let merged = arguments.value("--merged") ?? "/"
        let captureUpper: CaptureUpper =
            arguments.flag("--walt")
            ? .walt(root: FilePath(merged))
            : .directory(FilePath(arguments.value("--upper") ?? RuntimeLayout.node.tmpfsUpperDir))
        let options = try CaptureOptions(
            upper: captureUpper, mergedDirectory: FilePath(merged), exclusions: arguments.values("--exclude"),
            useDefaultExclusions: !arguments.flag("--no-default-excludes"), readImageExclusions: true,
            bootPlaced: try OverlayCapture.loadBootPlaced(
                FilePath(arguments.value("--placed") ?? BootPlacedManifest.defaultPath)),
            recordPaths: arguments.flag("--per-path"))
        let result = try OverlayCapture.capture(options, to: .standardOutput, compression: compression)
        if let summary = arguments.value("--summary") {
            let file = try FileDescriptor.open(
                FilePath(summary), .writeOnly, options: [.create, .truncate],
                permissions: [.ownerReadWrite, .groupRead, .otherRead])
            try file.closeAfter { _ = try file.writeAll(Array((try OverlayCapture.json(result) + "\n").utf8)) }
        }
        var line = "capture: \(result.totalEntries) entries, \(result.regularFiles.count) files "
        line += "(\(result.regularFiles.bytes) bytes), \(result.whiteouts.count) deleted, "
        line += "\(result.opaqueDirectories.count) opaque, \(result.skipped.count) skipped, "
        line += "\(result.changedWhileReading.count) changed while read; \(result.streamBytes) tar bytes\n"
        for skipped in result.skipped { line += "capture: skipped /\(skipped.path): \(skipped.reason)\n" }
        for path in result.changedWhileReading { line += "capture: changed while read: \(path)\n" }
        _ = try? FileDescriptor.standardError.writeAll(Array(line.utf8))
        return 0
    }
}
