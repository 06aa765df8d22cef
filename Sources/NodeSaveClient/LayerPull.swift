import ExtrasBase64
import LayerApply
import NodeAgent
import NodeSys
import OverlayCapture
import SystemPackage

/// `nodeinit pull`: fetches a node's change summary, then its layer, into a file that appears
/// only when complete (written under a temporary name and renamed; removed on failure).
public struct LayerPull {
    public struct Result: Sendable {
        /// The summary JSON as the agent sent it.
        public var summary: [UInt8]
        public var progress: PullProgress
        /// The capture report from the stream's trailer (JSON), when the agent sent one.
        public var report: [UInt8]?
    }

    public enum Error: Swift.Error, CustomStringConvertible {
        case unexpectedMediaType(String?, expected: String)
        case output(AtomicOutputFile.Error)
        case write(path: String, Errno)
        case layer(String)

        public var description: String {
            switch self {
            case .unexpectedMediaType(let type, let expected):
                "agent sent \(type.map { DisplayText.safe($0) } ?? "no Content-Type"), expected \(expected)"
            case .output(let error): "\(error)"
            case .write(let path, let e): "cannot write \(path): \(e) (errno \(e.rawValue))"
            case .layer(let reason): "the layer stream is not a valid tar: \(reason)"
            }
        }
    }

    public var client: AgentClient
    public var compression: LayerCompressionFormat

    public init(client: AgentClient, compression: LayerCompressionFormat = .none) {
        self.client = client
        self.compression = compression
    }

    /// Pulls into `path`. `onProgress` is called as bytes arrive (from this thread).
    ///
    /// The summary (the progress totals, and the JSON in the result) is fetched on a second connection while the
    /// layer streams: it is a walk of the whole upper on the node, and waiting for it first added that walk to
    /// every pull (0.4-0.6 s for 50,000 files). It is asked for once the layer's response has begun, so the layer
    /// always wins the race for the capture slot of an older agent, which allows one capture per client at a time
    /// and answers the summary 429; it is then fetched again after the layer.
    public func run(to path: String, onProgress: @escaping (PullProgress) -> Void = { _ in }) throws -> Result {
        var progress = PullProgress()
        progress.compressed = compression != .none

        let output: AtomicOutputFile
        do { output = try AtomicOutputFile.create(at: path) } catch { throw Error.output(error) }
        var response: HTTPClientResponse?
        var summaryFetch: ThreadedValue<(head: HTTPResponseHead, body: [UInt8])>?
        // On every exit: a summary still being fetched is waited for (bounded by the client's timeout).
        defer { _ = summaryFetch?.wait() }
        do {
            var layer = try client.get("/v1/layer?compress=\(compression.rawValue)")
            response = layer
            guard layer.head.status == 200 else {
                let body = try layer.readAll(limit: 1 << 20)
                try layer.requireSuccess(body: body)
                throw AgentClient.Error.malformedResponse(from: client.endpoint, "status \(layer.head.status)")
            }
            let type = layer.head.headers["Content-Type"]
            guard type == compression.mediaType else {
                throw Error.unexpectedMediaType(type, expected: compression.mediaType)
            }
            let client = client
            summaryFetch = try ThreadedValue { try client.getSmall("/v1/summary") }

            let started = ContinuousClock.now
            let report: (UInt64) -> Void = { streamBytes in
                progress.streamBytes = streamBytes
                if progress.totals == nil, case .success(let summary)? = summaryFetch?.finished {
                    progress.totals = Self.totals(summary.head)
                }
                let elapsed = ContinuousClock.now - started
                progress.elapsedSeconds =
                    Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                onProgress(progress)
            }
            // The stream goes to the file as it is; reading it as tar on the way (decompressed if
            // need be) counts entries for the display and proves the layer is well formed.
            let countEntry: (UInt64) -> Void = { previousSize in
                progress.entries &+= 1
                progress.contentBytes &+= previousSize
            }
            if compression == .none {
                // Plain tar: the body goes from the socket to the file in the kernel (splice), and the reader
                // reads back from the file only what it parses (headers, small files), skipping large data.
                let spliced = try SplicedLayerSource(
                    response: layer, output: output.fd, path: output.temporaryPath)
                defer { spliced.close() }
                spliced.onRead = report
                var reader = TarReader(source: spliced)
                defer { reader.close() }
                progress.contentBytes &+= try Self.readEntries(&reader, onEntry: countEntry)
                try spliced.drain()
                layer = spliced.response
                progress.streamBytes = spliced.streamBytes
            } else {
                let tee = TeeSource(response: layer, output: output.fd, path: output.temporaryPath)
                tee.onRead = report
                var reader = TarReader(source: try AutoDecompressingSource(tee))
                defer { reader.close() }
                progress.contentBytes &+= try Self.readEntries(&reader, onEntry: countEntry)
                try tee.drain()
                layer = tee.response
                progress.streamBytes = tee.streamBytes
            }
            response = layer
            let captureReport = layer.trailers[AgentHeaders.report].flatMap { try? Base64.decode(string: $0) }
            layer.close()
            response = nil
            let fetch = summaryFetch
            summaryFetch = nil  // waited for below, not again on the way out
            let summary = try Self.summary(after: fetch, from: client)
            progress.totals = Self.totals(summary.head)
            do { try output.commit() } catch { throw Error.output(error) }
            return Result(summary: summary.body, progress: progress, report: captureReport)
        } catch {
            response?.close()
            output.discard()
            throw error
        }
    }
}

extension LayerPull {
    /// The summary fetched beside the layer; fetched now when the agent refused it meanwhile (429: an agent that
    /// runs one capture per client at a time).
    static func summary(
        after fetch: ThreadedValue<(head: HTTPResponseHead, body: [UInt8])>?, from client: AgentClient
    ) throws -> (head: HTTPResponseHead, body: [UInt8]) {
        switch fetch?.wait() {
        case .success(let summary)?: return summary
        case .failure(AgentClient.Error.status(_, _, 429, _))?, nil: return try client.getSmall("/v1/summary")
        case .failure(let error)?: throw error
        }
    }

    static func totals(_ head: HTTPResponseHead) -> PullProgress.Totals {
        PullProgress.Totals(
            entries: head.headers[AgentHeaders.entryCount].flatMap { UInt64($0) } ?? 0,
            contentBytes: head.headers[AgentHeaders.contentBytes].flatMap { UInt64($0) } ?? 0)
    }

    /// Reads every entry's header. `onEntry` gets, as each entry begins, the content size of the one before it
    /// (0 for the first), whose content counts as done once the reader has moved past it; the last entry's size
    /// is returned.
    static func readEntries<Source: ByteSource>(_ reader: inout TarReader<Source>, onEntry: (UInt64) -> Void) throws
        -> UInt64
    {
        do {
            var previousSize: UInt64 = 0
            while let entry = try reader.next() {
                onEntry(previousSize)
                previousSize = UInt64(max(0, entry.size))
            }
            return previousSize
        } catch let error as TarReader<Source>.Error {
            throw Error.layer(error.description)
        }
    }
}

/// A plain layer body spliced from the agent's socket into the output file (through a pipe, in the kernel), read
/// back from the file for the tar reader: `read` preads what the file holds past the reader's position, `skip`
/// only moves the position. The body is received only as far as the reader asks (and to its end by `drain`).
final class SplicedLayerSource: SkippingByteSource {
    var response: HTTPClientResponse
    let output: FileDescriptor
    let path: String
    private let pipe: (readEnd: FileDescriptor, writeEnd: FileDescriptor)
    private let capacity: Int
    /// For bytes that cannot be spliced (those that came with the response head, or a file system without splice).
    private let scratch: UnsafeMutableRawBufferPointer
    /// Body bytes in the file; the reader's position in it.
    private(set) var streamBytes: UInt64 = 0
    private var position: Int64 = 0
    private var ended = false
    var onRead: (UInt64) -> Void = { _ in }

    init(response: HTTPClientResponse, output: FileDescriptor, path: String) throws {
        self.response = response
        self.output = output
        self.path = path
        do { pipe = try FileDescriptor.pipe() } catch {
            throw LayerPull.Error.write(path: "a pipe for the layer", (error as? Errno) ?? .ioError)
        }
        FileTree.enlargePipeBuffer(pipe.readEnd, to: 1 << 20)
        capacity = FileTree.pipeCapacity(pipe.readEnd) ?? 65536
        scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    }

    /// Closes the pipe and frees the scratch buffer; once, when done.
    func close() {
        try? pipe.readEnd.close()
        try? pipe.writeEnd.close()
        scratch.deallocate()
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        try fill(through: position + 1)
        let available = Int64(streamBytes) - position
        guard available > 0 else { return 0 }
        let want = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<Int(min(Int64(buffer.count), available))])
        let count: Int
        do { count = try output.read(fromAbsoluteOffset: position, into: want, retryOnInterrupt: true) } catch {
            throw LayerPull.Error.write(path: path, (error as? Errno) ?? .ioError)
        }
        guard count > 0 else { throw LayerPull.Error.write(path: path, .ioError) }
        position += Int64(count)
        return count
    }

    func skip(_ count: Int64) throws -> Int64 {
        try fill(through: position + count)
        let skipped = min(count, Int64(streamBytes) - position)
        position += skipped
        return skipped
    }

    /// Receives the rest of the body, whatever follows the tar end marker (padding).
    func drain() throws { try fill(through: Int64.max) }

    private func fill(through target: Int64) throws {
        while Int64(streamBytes) < target, !ended {
            let count: Int
            do {
                count = try response.spliceBody(
                    to: output, path: path, through: pipe, maxCount: capacity, scratch: scratch)
            } catch let error as FileTree.Error {
                if case .system(_, _, let errno) = error { throw LayerPull.Error.write(path: path, errno) }
                throw error
            }
            if count == 0 {
                ended = true
            } else {
                streamBytes &+= UInt64(count)
                onRead(streamBytes)
            }
        }
    }
}

/// Reads the layer body from the agent and writes every byte to the output file on the way.
final class TeeSource: ByteSource {
    var response: HTTPClientResponse
    let output: FileDescriptor
    let path: String
    private(set) var streamBytes: UInt64 = 0
    var onRead: (UInt64) -> Void = { _ in }

    init(response: HTTPClientResponse, output: FileDescriptor, path: String) {
        self.response = response
        self.output = output
        self.path = path
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = try response.readBody(into: buffer)
        if count > 0 {
            do { _ = try output.writeAll(UnsafeRawBufferPointer(rebasing: buffer[0..<count])) } catch {
                throw LayerPull.Error.write(path: path, (error as? Errno) ?? .ioError)
            }
            streamBytes &+= UInt64(count)
            onRead(streamBytes)
        }
        return count
    }

    /// Copies whatever follows the tar end marker (padding) up to the end of the body.
    func drain() throws {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while try buffer.withUnsafeMutableBytes({ try read(into: $0) }) > 0 {}
    }
}
