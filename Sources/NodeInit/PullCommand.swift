import ArgumentParser
import NodeAgent
import OverlayCapture
import SystemPackage

/// Options shared by `pull` and `save`: which node, how to authenticate, which compression.
struct AgentClientOptions: ParsableArguments {
    @Argument(
        help: "The node: an IP address or a name from /etc/hosts, optionally :port (IPv6 with a port: [addr]:port).")
    var node: String

    @Option(help: "File holding the agent's bearer token.")
    var tokenFile: String?

    @Option(help: "Layer compression on the wire: none, gzip or zstd.")
    var compress: String = "none"

    @Flag(help: "No progress display on stderr.")
    var quiet = false

    func makePull() throws -> LayerPull {
        guard let compression = LayerCompressionFormat(rawValue: compress) else {
            throw ValidationError("--compress must be none, gzip or zstd, not '\(compress)'")
        }
        let endpoint = try NodeEndpoint.resolve(node)
        let token = try tokenFile.map { path throws(TokenFile.Error) in try TokenFile.load(path) }
        return LayerPull(client: AgentClient(endpoint: endpoint, token: token), compression: compression)
    }
}

/// `nodeinit pull <node> -o FILE`: fetch the node's change summary and layer.
struct PullCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Fetch a node's changes as an OCI layer file (written under a temporary name, renamed when complete)."
    )

    @OptionGroup var client: AgentClientOptions

    @Option(name: .shortAndLong, help: "Output layer file.")
    var output: String

    @Option(help: "Also write the change summary JSON here.")
    var summary: String?

    func run() throws {
        let pull = try client.makePull()
        let renderer = client.quiet ? nil : ProgressRenderer()
        let result = try pull.run(to: output) { renderer?.update($0) }
        renderer?.finish(result.progress)
        if let summary {
            let file = try FileDescriptor.open(
                FilePath(summary), .writeOnly, options: [.create, .truncate],
                permissions: [.ownerReadWrite, .groupRead, .otherRead])
            try file.closeAfter { _ = try file.writeAll(result.summary) }
        }
        let line =
            "pull: \(output): \(result.progress.entries) entries, \(result.progress.streamBytes) bytes (\(pull.compression.mediaType))\n"
        _ = try? FileDescriptor.standardError.writeAll(Array(line.utf8))
    }
}

/// `nodeinit save <node> <image-dir> <new-image-dir>`.
struct SaveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "save",
        abstract: "Pull a node's changes and apply them to a copy of its image; the original stays untouched.")

    @OptionGroup var client: AgentClientOptions

    @Argument(help: "The image directory the node booted (left untouched).")
    var imageDirectory: String

    @Argument(help: "The new image directory (must not exist).")
    var newImageDirectory: String

    @Option(help: "Keep the pulled layer in this file (for podman/umoci) instead of deleting it.")
    var keepLayer: String?

    func run() throws {
        let save = ImageSave(pull: try client.makePull(), keepLayerAt: keepLayer)
        let renderer = client.quiet ? nil : ProgressRenderer()
        var lastProgress: PullProgress?
        let result = try save.run(
            image: imageDirectory, newImage: newImageDirectory,
            onProgress: { progress in
                lastProgress = progress
                renderer?.update(progress)
            }
        ) { line in
            if let last = lastProgress {
                renderer?.finish(last)
                lastProgress = nil
            }
            if !client.quiet { _ = try? FileDescriptor.standardError.writeAll(Array("save: \(line)\n".utf8)) }
        }
        let applied = result.applied
        let line =
            "save: \(newImageDirectory): \(applied.entries) entries applied (\(applied.files) files, \(applied.whiteouts) deletions, \(applied.opaqueDirectories) opaque directories)\n"
        _ = try? FileDescriptor.standardError.writeAll(Array(line.utf8))
    }
}
