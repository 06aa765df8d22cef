import NodeAgent
import NodeSys
import OverlayCapture
import Synchronization
import SystemPackage
import TextSearch

/// What one node's pull or save gave, for the progress display and the summary table.
public struct NodeOutcome: Sendable, Equatable {
    public var node: String
    /// nil when the node succeeded.
    public var failure: NodeFailure?
    public var entries: UInt64 = 0
    /// Layer bytes received (compressed size for a compressed layer).
    public var bytes: UInt64 = 0
    public var seconds: Double = 0
    /// The layer file or new image directory written (only when it succeeded).
    public var output: String?

    public var succeeded: Bool { failure == nil }

    /// Layer bytes per second, in MiB; nil when nothing was received.
    public var mebibytesPerSecond: Double? {
        guard bytes > 0, seconds > 0 else { return nil }
        return Double(bytes) / 1_048_576 / seconds
    }
}

/// Why a node failed: a short kind for the table, and the whole message naming what went wrong.
public struct NodeFailure: Sendable, Equatable, CustomStringConvertible {
    /// "refused", "timeout", "forbidden", "truncated", ...
    public var kind: String
    public var message: String

    public var description: String { "\(kind): \(message)" }

    public init(kind: String, message: String) {
        self.kind = kind
        self.message = message
    }

    /// Classifies the errors a pull or save throws, so a table of hundreds of nodes can be read at a glance.
    public init(_ error: any Swift.Error) {
        message = "\(error)"
        switch error {
        case let error as AgentClient.Error: kind = Self.kind(of: error)
        case let error as TCPStream.Error: kind = Self.kind(of: error)
        case is NodeEndpoint.Error: kind = "bad node"
        case let error as LayerPull.Error:
            switch error {
            case .layer: kind = "invalid layer"
            case .unexpectedMediaType: kind = "wrong media type"
            case .output, .write: kind = "write"
            }
        case let error as ImageSave.Error:
            switch error {
            case .targetExists: kind = "target exists"
            case .imageNotDirectory, .targetParentMissing: kind = "bad image"
            case .copy: kind = "copy"
            case .apply: kind = "apply"
            case .staging, .rename: kind = "write"
            }
        default: kind = "error"
        }
    }

    static func kind(of error: AgentClient.Error) -> String {
        switch error {
        case .connection(let error): kind(of: error)
        case .status(_, _, 403, _): "forbidden"
        case .status(_, _, let status, _): "http \(status)"
        case .truncated: "truncated"
        case .malformedResponse, .tooLarge: "bad response"
        case .reservedPortDenied: "no reserved port"
        }
    }

    static func kind(of error: TCPStream.Error) -> String {
        switch error {
        case .connect(_, .connectionRefused): "refused"
        case .connect(_, .noRouteToHost), .connect(_, .networkUnreachable), .connect(_, .hostIsDown):
            "unreachable"
        case .connectTimedOut, .sendTimedOut, .receiveTimedOut, .connect(_, .timedOut): "timeout"
        case .send(_, .connectionReset), .receive(_, .connectionReset), .send(_, .brokenPipe):
            "connection reset"
        case .closedEarly: "truncated"
        default: "network"
        }
    }
}

/// Told about each node as it starts, moves on and ends; called from the worker threads.
public protocol MultiNodeObserver: Sendable {
    func started(_ node: String)
    func progress(_ node: String, _ status: String)
    func finished(_ outcome: NodeOutcome)
}

/// What a job reports of its node's transfer.
public struct NodeTransfer: Sendable {
    public var entries: UInt64
    public var bytes: UInt64
    public var output: String

    public init(entries: UInt64, bytes: UInt64, output: String) {
        self.entries = entries
        self.bytes = bytes
        self.output = output
    }
}

/// Pulls or saves many nodes with a fixed number of worker threads taking nodes from a shared queue.
/// Each worker holds one pull's buffers (socket reads, the tee, the tar reader, a decompressor's window) at a
/// time, so memory is bounded by `parallel` × one pull, whatever the node count; what stays per node is its
/// `NodeOutcome`, a few hundred bytes. A node's failure is recorded and the workers go on with the others.
public struct MultiNodeRun: Sendable {
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case invalidParallel(Int)

        public var description: String {
            switch self {
            case .invalidParallel(let value):
                "--parallel must be between \(MultiNodeRun.parallelRange.lowerBound) and \(MultiNodeRun.parallelRange.upperBound), not \(value)"
            }
        }
    }

    /// 64 pulls at once already saturate a 10 GbE link from nodes serving a few hundred MB/s each; beyond that
    /// only memory and the agents' 32-connection caps grow.
    public static let parallelRange = 1...64
    /// A few at once: enough to hide each node's capture latency, gentle on the server's disk.
    public static let defaultParallel = 4

    public let nodes: [String]
    public let parallel: Int

    public init(nodes: [String], parallel: Int = defaultParallel) throws(Error) {
        guard Self.parallelRange.contains(parallel) else { throw .invalidParallel(parallel) }
        self.nodes = nodes
        self.parallel = parallel
    }

    /// Runs `job` for every node, at most `parallel` at once, and returns the outcomes in the nodes' order.
    /// `job` gets the node and a progress callback (a status line for the display).
    public func run(
        observer: (any MultiNodeObserver)? = nil,
        _ job: @escaping @Sendable (_ node: String, _ progress: @escaping (String) -> Void) throws -> NodeTransfer
    ) -> [NodeOutcome] {
        let count = nodes.count
        let nodes = self.nodes
        let next = Atomic<Int>(0)
        let outcomes = Mutex<[NodeOutcome?]>(Array(repeating: nil, count: count))
        let work: @Sendable () -> Void = {
            while true {
                let index = next.add(1, ordering: .relaxed).oldValue
                guard index < count else { return }
                let node = nodes[index]
                observer?.started(node)
                let started = ContinuousClock.now
                var outcome = NodeOutcome(node: node)
                do {
                    let transfer = try job(node) { status in observer?.progress(node, status) }
                    outcome.entries = transfer.entries
                    outcome.bytes = transfer.bytes
                    outcome.output = transfer.output
                } catch {
                    outcome.failure = NodeFailure(error)
                }
                outcome.seconds = Self.seconds(ContinuousClock.now - started)
                observer?.finished(outcome)
                outcomes.withLock { $0[index] = outcome }
            }
        }
        // The calling thread is one of the workers; a thread that cannot be started only narrows the run.
        var threads: [NativeThread] = []
        for _ in 1..<min(parallel, max(count, 1)) {
            guard let thread = try? NativeThread.start(work) else { break }
            threads.append(thread)
        }
        work()
        for thread in threads { thread.join() }
        return outcomes.withLock { list in
            list.enumerated().map { index, outcome in
                outcome
                    ?? NodeOutcome(node: nodes[index], failure: NodeFailure(kind: "error", message: "not run"))
            }
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// 0 when every node succeeded, `someFailed` when some did, `allFailed` when none did.
    public static func exitStatus(_ outcomes: [NodeOutcome]) -> Int32 {
        let failed = outcomes.filter { !$0.succeeded }.count
        if failed == 0 { return 0 }
        return failed == outcomes.count ? ExitStatus.allFailed : ExitStatus.someFailed
    }

    /// The exit statuses of a multi-node `pull` or `save` (1 stays "nothing was tried": a bad option or node
    /// list; 64 is a usage error).
    public enum ExitStatus {
        public static let someFailed: Int32 = 2
        public static let allFailed: Int32 = 3
    }
}

/// The pull job of `nodeinit pull node1 node2 ... -o DIR`: each node's layer into `DIR/<node>.tar[.gz|.zst]`,
/// written under a temporary name and renamed when complete, as a single pull does.
public struct MultiNodePullJob: Sendable {
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case outputNotDirectory(String)

        public var description: String {
            switch self {
            case .outputNotDirectory(let path):
                "with several nodes -o names a directory (one file per node in it), and \(path) is not one"
            }
        }
    }

    public var directory: String
    public var compression: LayerCompressionFormat
    public var token: BearerToken?
    /// Also write `DIR/<node>.summary.json`.
    public var writeSummaries: Bool
    public var hostsFile = "/etc/hosts"
    /// Tests: the local address to connect from, and whether to bind a reserved port.
    public var source: IPAddress?
    public var reservedSourcePort = true
    public var timeoutMilliseconds: Int32 = 60_000

    public init(
        directory: String, compression: LayerCompressionFormat = .none, token: BearerToken? = nil,
        writeSummaries: Bool = false
    ) {
        self.directory = ImageSave.trimmed(directory)
        self.compression = compression
        self.token = token
        self.writeSummaries = writeSummaries
    }

    /// Checked before any node is pulled: a typo must not become as many failures as there are nodes.
    public func checkDirectory() throws(Error) {
        guard PathOperations.isDirectory(directory) else { throw .outputNotDirectory(directory) }
    }

    public var fileExtension: String {
        switch compression {
        case .none: ".tar"
        case .gzip: ".tar.gz"
        case .zstd: ".tar.zst"
        }
    }

    public func layerPath(for node: String) -> String { "\(directory)/\(node)\(fileExtension)" }

    /// A pull for `node`; resolving the name first means a node that is not a host name or address never
    /// becomes a path.
    public func makePull(for node: String) throws -> LayerPull {
        var client = AgentClient(
            endpoint: try NodeEndpoint.resolve(node, hostsFile: hostsFile), token: token, source: source)
        client.reservedSourcePort = reservedSourcePort
        client.timeoutMilliseconds = timeoutMilliseconds
        return LayerPull(client: client, compression: compression)
    }

    public func run(_ node: String, progress: @escaping (String) -> Void) throws -> NodeTransfer {
        let pull = try makePull(for: node)
        let path = layerPath(for: node)
        let result = try pull.run(to: path) { progress($0.line) }
        if writeSummaries {
            let summary: AtomicOutputFile
            do { summary = try AtomicOutputFile.create(at: "\(directory)/\(node).summary.json") } catch {
                throw LayerPull.Error.output(error)
            }
            do { _ = try summary.fd.writeAll(result.summary) } catch {
                summary.discard()
                throw LayerPull.Error.write(path: summary.temporaryPath, (error as? Errno) ?? .ioError)
            }
            do { try summary.commit() } catch { throw LayerPull.Error.output(error) }
        }
        return NodeTransfer(entries: result.progress.entries, bytes: result.progress.streamBytes, output: path)
    }
}

/// The save job of `nodeinit save --image BASE --to 'DIR/{node}' node1 node2 ...`: each node's layer applied
/// to its own copy of the one base image.
public struct MultiNodeSaveJob: Sendable {
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case templateWithoutNode(option: String, String)

        public var description: String {
            switch self {
            case .templateWithoutNode(let option, let template):
                "\(option) \(template) must contain {node}: every node gets its own (e.g. \(option == "--to" ? "/srv/images/{node}-saved" : "/srv/layers/{node}.tar"))"
            }
        }
    }

    public static let placeholder = "{node}"

    public var image: String
    public var targetTemplate: String
    public var keepLayerTemplate: String?
    public var pull: MultiNodePullJob

    public init(image: String, targetTemplate: String, keepLayerTemplate: String?, pull: MultiNodePullJob)
        throws(Error)
    {
        guard targetTemplate.containsBytes(Self.placeholder) else {
            throw .templateWithoutNode(option: "--to", targetTemplate)
        }
        if let keepLayerTemplate, !keepLayerTemplate.containsBytes(Self.placeholder) {
            throw .templateWithoutNode(option: "--keep-layer", keepLayerTemplate)
        }
        self.image = image
        self.targetTemplate = targetTemplate
        self.keepLayerTemplate = keepLayerTemplate
        self.pull = pull
    }

    public func target(for node: String) -> String { Self.fill(targetTemplate, node) }

    static func fill(_ template: String, _ node: String) -> String {
        template.split(atBytes: placeholder).joined(separator: node)
    }

    public func run(_ node: String, progress: @escaping (String) -> Void) throws -> NodeTransfer {
        let save = ImageSave(
            pull: try pull.makePull(for: node), keepLayerAt: keepLayerTemplate.map { Self.fill($0, node) })
        let target = target(for: node)
        let result = try save.run(image: image, newImage: target, onProgress: { progress($0.line) }) { step in
            progress(step)
        }
        return NodeTransfer(
            entries: result.pull.progress.entries, bytes: result.pull.progress.streamBytes, output: target)
    }
}
