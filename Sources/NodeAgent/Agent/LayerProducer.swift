import OverlayCapture
import SystemPackage

/// What the agent needs from a change capture: a summary and the layer itself.
/// `OverlayCaptureProducer` is the real one; tests use small fakes.
public protocol LayerProducer: Sendable {
    /// Walks the changes and returns their summary.
    func summary(includePaths: Bool) throws -> LayerSummary
    /// Streams the layer into `fd` (a pipe the agent forwards to the client) and returns the
    /// capture report as JSON. A write failing with EPIPE means the client left: stop and throw.
    func writeLayer(to fd: FileDescriptor, compression: LayerCompressionFormat) throws -> [UInt8]
}

/// A change summary: its JSON, plus the totals a client's progress display needs (sent as headers
/// too, so a client does not have to understand the JSON).
public struct LayerSummary: Sendable, Equatable {
    public var json: [UInt8]
    /// Entries the layer will hold (files, directories, links, whiteouts...).
    public var entryCount: UInt64
    /// Bytes of file content the layer will hold.
    public var contentBytes: UInt64

    public init(json: [UInt8], entryCount: UInt64, contentBytes: UInt64) {
        self.json = json
        self.entryCount = entryCount
        self.contentBytes = contentBytes
    }
}

/// Header names the agent and `pull` share.
public enum AgentHeaders {
    public static let entryCount = "Nodeinit-Entries"
    public static let contentBytes = "Nodeinit-Content-Bytes"
    /// Trailer of a layer response: the capture report JSON, base64-encoded.
    public static let report = "Nodeinit-Report"
}
