import ExtrasBase64
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
    public func run(to path: String, onProgress: @escaping (PullProgress) -> Void = { _ in }) throws -> Result {
        let (summaryHead, summary) = try client.getSmall("/v1/summary")
        var progress = PullProgress()
        progress.compressed = compression != .none
        progress.totalEntries = summaryHead.headers[AgentHeaders.entryCount].flatMap { UInt64($0) } ?? 0
        progress.totalContentBytes = summaryHead.headers[AgentHeaders.contentBytes].flatMap { UInt64($0) } ?? 0

        let output: AtomicOutputFile
        do { output = try AtomicOutputFile.create(at: path) } catch { throw Error.output(error) }
        var response: HTTPClientResponse?
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

            let tee = TeeSource(response: layer, output: output.fd, path: output.temporaryPath)
            let started = ContinuousClock.now
            tee.onRead = { streamBytes in
                progress.streamBytes = streamBytes
                let elapsed = ContinuousClock.now - started
                progress.elapsedSeconds =
                    Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                onProgress(progress)
            }
            // The stream goes to the file as it is; reading it as tar on the way (decompressed if
            // need be) counts entries for the display and proves the layer is well formed.
            var reader = TarReader(source: try AutoDecompressingSource(tee))
            defer { reader.close() }
            do {
                // An entry's content counts as done once the reader has moved past it.
                var previousSize: UInt64 = 0
                while let entry = try reader.next() {
                    progress.entries &+= 1
                    progress.contentBytes &+= previousSize
                    previousSize = UInt64(max(0, entry.size))
                }
                progress.contentBytes &+= previousSize
            } catch let error as TarReader<AutoDecompressingSource<TeeSource>>.Error {
                throw Error.layer(error.description)
            }
            try tee.drain()
            layer = tee.response
            response = layer
            progress.streamBytes = tee.streamBytes
            let report = layer.trailers[AgentHeaders.report].flatMap { try? Base64.decode(string: $0) }
            layer.close()
            response = nil
            do { try output.commit() } catch { throw Error.output(error) }
            return Result(summary: summary, progress: progress, report: report)
        } catch {
            response?.close()
            output.discard()
            throw error
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
