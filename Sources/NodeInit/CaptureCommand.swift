import ArgumentParser
import Glibc
import NodeSys
import OverlayCapture
import RuntimeLayout
import SystemPackage

/// `nodeinit capture`: writes the overlay upper as an OCI layer to stdout (for `ssh root@node nodeinit capture`).
struct CaptureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Write the node's overlay changes to stdout as an OCI image layer (tar).")

    @Option(help: "Overlay upper directory.")
    var upper: String = RuntimeLayout.node.tmpfsUpperDir

    @Option(help: "Merged overlay view (metacopy data, /etc/nodeinit/save-exclude, user and group names).")
    var merged: String = "/"

    @Flag(
        help:
            "Capture walt-init's overlay (WalT nodes): the upper is found from /bin/walt-env under --merged; WalT's own boot files are left out."
    )
    var walt = false

    @Option(name: .customLong("exclude"), help: "Extra exclusion pattern (absolute path, * and ? allowed). Repeatable.")
    var exclusions: [String] = []

    @Flag(help: "Do not apply the built-in exclusion list.")
    var noDefaultExcludes = false

    @Option(help: "Boot-placed manifest; entries still as the init placed them are left out.")
    var placed: String = BootPlacedManifest.defaultPath

    @Option(help: "Compression: none, gzip or zstd.")
    var compress: String = "none"

    @Option(help: "Write the change summary as JSON to this file.")
    var summary: String?

    @Flag(help: "List every captured path in the summary.")
    var perPath = false

    func run() throws {
        guard let compression = LayerCompressionFormat(rawValue: compress) else {
            throw ValidationError("--compress must be none, gzip or zstd, not '\(compress)'")
        }
        if isatty(1) != 0 { throw ValidationError("refusing to write a binary layer to a terminal; redirect stdout") }
        let captureUpper: CaptureUpper = walt ? .walt(root: FilePath(merged)) : .directory(FilePath(upper))
        let options = try CaptureOptions(
            upper: captureUpper, mergedDirectory: FilePath(merged), exclusions: exclusions,
            useDefaultExclusions: !noDefaultExcludes, readImageExclusions: true,
            bootPlaced: try OverlayCapture.loadBootPlaced(FilePath(placed)), recordPaths: perPath)
        let result = try OverlayCapture.capture(options, to: .standardOutput, compression: compression)
        if let summary {
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
    }
}
