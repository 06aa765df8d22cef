import ArgumentParser
import NodeAgent
import NodeSaveClient
import OverlayCapture
import SystemPackage

/// Options shared by `pull` and `save`: how to authenticate, which compression.
struct AgentClientOptions: ParsableArguments {
    @Option(help: "File holding the agent's bearer token.")
    var tokenFile: String?

    @Option(help: "Layer compression on the wire: none, gzip or zstd.")
    var compress: String = "none"

    @Flag(help: "No progress display on stderr.")
    var quiet = false

    func compression() throws -> LayerCompressionFormat {
        guard let compression = LayerCompressionFormat(rawValue: compress) else {
            throw ValidationError("--compress must be none, gzip or zstd, not '\(compress)'")
        }
        return compression
    }

    func token() throws -> BearerToken? {
        try tokenFile.map { path throws(TokenFile.Error) in try TokenFile.load(path) }
    }

    func makePull(node: String) throws -> LayerPull {
        let compression = try compression()
        let endpoint = try NodeEndpoint.resolve(node)
        return LayerPull(client: AgentClient(endpoint: endpoint, token: try token()), compression: compression)
    }
}

/// Options for several nodes at once.
struct MultiNodeOptions: ParsableArguments {
    @Option(help: "Read nodes from this file too: one per line, # comments.")
    var nodesFile: String?

    @Option(
        help:
            "How many nodes at once (\(MultiNodeRun.parallelRange.lowerBound)-\(MultiNodeRun.parallelRange.upperBound))."
    )
    var parallel: Int = MultiNodeRun.defaultParallel

    func validate() throws {
        guard MultiNodeRun.parallelRange.contains(parallel) else {
            throw ValidationError(MultiNodeRun.Error.invalidParallel(parallel).description)
        }
    }

    func nodes(_ arguments: [String]) throws -> [String] {
        let nodes = try NodeList.combine(
            arguments, try nodesFile.map { path throws(NodeList.Error) in try NodeList.load(path) } ?? [])
        try NodeList.checkDistinctAgents(nodes)
        return nodes
    }

    /// Runs `job` over the nodes with the progress board, prints the table on stdout, and exits 0 only when
    /// every node succeeded (2: some failed, 3: all failed).
    func run(
        _ nodes: [String], quiet: Bool, verb: String,
        _ job: @escaping @Sendable (String, @escaping (String) -> Void) throws -> NodeTransfer
    ) throws {
        let run = try MultiNodeRun(nodes: nodes, parallel: parallel)
        let board = quiet ? nil : MultiNodeProgressBoard(nodes: nodes, verb: verb)
        let outcomes = run.run(observer: board, job)
        _ = try? FileDescriptor.standardOutput.writeAll(Array(MultiNodeSummaryTable.render(outcomes).utf8))
        let status = MultiNodeRun.exitStatus(outcomes)
        if status != 0 { throw ExitCode(status) }
    }
}

/// `nodeinit pull <node> -o FILE`: fetch the node's change summary and layer;
/// `nodeinit pull <node>... -o DIR`: the same for many nodes, into DIR/<node>.tar[.gz|.zst].
struct PullCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract:
            "Fetch a node's changes as an OCI layer file (written under a temporary name, renamed when complete).",
        discussion: """
            With several nodes (or --nodes-file), -o is a directory and each node's layer goes to \
            DIR/<node>.tar (.tar.gz, .tar.zst), --parallel at once; a table follows. Exit status: 0 when every \
            node succeeded, 2 when some failed, 3 when all failed.
            """)

    @Argument(
        help: "The nodes: IP addresses or names from /etc/hosts, optionally :port (IPv6 with a port: [addr]:port).")
    var nodes: [String] = []

    @OptionGroup var client: AgentClientOptions
    @OptionGroup var multi: MultiNodeOptions

    @Option(name: .shortAndLong, help: "Output layer file; with several nodes, the directory for their files.")
    var output: String

    @Option(help: "Also write the change summary JSON here (one node).")
    var summary: String?

    @Flag(help: "With several nodes: also write DIR/<node>.summary.json.")
    var writeSummaries = false

    var isMultiNode: Bool { nodes.count != 1 || multi.nodesFile != nil }

    func validate() throws {
        if isMultiNode {
            if summary != nil { throw ValidationError("--summary is for one node; with several use --write-summaries") }
        } else if writeSummaries {
            throw ValidationError("--write-summaries is for several nodes; with one use --summary FILE")
        }
    }

    func run() throws {
        guard isMultiNode else { return try runOne(nodes[0]) }
        let nodes = try multi.nodes(nodes)
        let job = MultiNodePullJob(
            directory: output, compression: try client.compression(), token: try client.token(),
            writeSummaries: writeSummaries)
        try job.checkDirectory()
        try multi.run(nodes, quiet: client.quiet, verb: "pulled") { node, progress in
            try job.run(node, progress: progress)
        }
    }

    private func runOne(_ node: String) throws {
        let pull = try client.makePull(node: node)
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

/// `nodeinit save <node> <image-dir> <new-image-dir>`, or for many nodes from one base image
/// `nodeinit save --image BASE --to 'DIR/{node}' <node>...`.
struct SaveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "save",
        abstract: "Pull a node's changes and apply them to a copy of its image; the original stays untouched.",
        usage: """
            nodeinit save <node> <image-dir> <new-image-dir> [options]
            nodeinit save --image <image-dir> --to <dir/{node}> <node>... [--nodes-file F] [--parallel N] [options]
            """,
        discussion: """
            With --image, every node named gets its own new image, --to with {node} replaced by the node, all \
            copied from the one base image, --parallel at once; a table follows. Exit status: 0 when every node \
            succeeded, 2 when some failed, 3 when all failed.
            """)

    @Argument(help: "<node> <image-dir> <new-image-dir>; with --image, the nodes.")
    var arguments: [String] = []

    @OptionGroup var client: AgentClientOptions
    @OptionGroup var multi: MultiNodeOptions

    @Option(help: "Several nodes: the image directory they booted (left untouched).")
    var image: String?

    @Option(help: "Several nodes: each node's new image directory, with {node} for the node (must not exist).")
    var to: String?

    @Option(help: "Keep the pulled layer in this file (for podman/umoci); with --image, a path with {node}.")
    var keepLayer: String?

    func validate() throws {
        if image == nil {
            guard to == nil, multi.nodesFile == nil else {
                throw ValidationError("--to and --nodes-file go with --image BASE (several nodes from one image)")
            }
            guard arguments.count == 3 else {
                throw ValidationError(
                    "expected <node> <image-dir> <new-image-dir>, or --image BASE --to 'DIR/{node}' <node>...")
            }
        } else if let to {
            // Checked here too, so a template without {node} is a usage error (64) like the others.
            for (option, template) in [("--to", to), ("--keep-layer", keepLayer)] {
                guard let template, !template.contains(MultiNodeSaveJob.placeholder) else { continue }
                throw ValidationError(
                    MultiNodeSaveJob.Error.templateWithoutNode(option: option, template).description)
            }
        } else {
            throw ValidationError("--image needs --to 'DIR/{node}': where each node's new image goes")
        }
    }

    func run() throws {
        guard let image, let to else {
            return try runOne(node: arguments[0], image: arguments[1], newImage: arguments[2])
        }
        let nodes = try multi.nodes(arguments)
        let job = try MultiNodeSaveJob(
            image: image, targetTemplate: to, keepLayerTemplate: keepLayer,
            pull: MultiNodePullJob(directory: ".", compression: try client.compression(), token: try client.token()))
        try multi.run(nodes, quiet: client.quiet, verb: "saved") { node, progress in
            try job.run(node, progress: progress)
        }
    }

    private func runOne(node: String, image: String, newImage: String) throws {
        let save = ImageSave(pull: try client.makePull(node: node), keepLayerAt: keepLayer)
        let renderer = client.quiet ? nil : ProgressRenderer()
        var lastProgress: PullProgress?
        let result = try save.run(
            image: image, newImage: newImage,
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
            "save: \(newImage): \(applied.entries) entries applied (\(applied.files) files, \(applied.whiteouts) deletions, \(applied.opaqueDirectories) opaque directories)\n"
        _ = try? FileDescriptor.standardError.writeAll(Array(line.utf8))
    }
}
