import JSONCoding
import OverlayCapture
import SystemPackage

/// The agent's real producer: OverlayCapture over the node's overlay upper directory.
///
/// Options are re-read at every request: the boot-placed manifest and the image's
/// `/etc/nodeinit/save-exclude` may change while the node runs, and walt-init's upper is found anew.
public struct OverlayCaptureProducer: LayerProducer {
    public var upper: CaptureUpper
    public var mergedDirectory: FilePath
    public var bootPlacedManifest: FilePath
    public var exclusions: [String]

    public init(upper: CaptureUpper, mergedDirectory: FilePath, bootPlacedManifest: FilePath, exclusions: [String] = [])
    {
        self.upper = upper
        self.mergedDirectory = mergedDirectory
        self.bootPlacedManifest = bootPlacedManifest
        self.exclusions = exclusions
    }

    public init(
        upperDirectory: FilePath, mergedDirectory: FilePath, bootPlacedManifest: FilePath, exclusions: [String] = []
    ) {
        self.init(
            upper: .directory(upperDirectory), mergedDirectory: mergedDirectory, bootPlacedManifest: bootPlacedManifest,
            exclusions: exclusions)
    }

    private func options(recordPaths: Bool) throws -> CaptureOptions {
        try CaptureOptions(
            upper: upper, mergedDirectory: mergedDirectory, exclusions: exclusions,
            bootPlaced: try OverlayCapture.loadBootPlaced(bootPlacedManifest), recordPaths: recordPaths)
    }

    /// The same walk as the layer's, at idle priority, without reading file data (sizes come from lstat): the
    /// counts, sizes, skipped names and the exact stream size, at the cost of a directory walk rather than of
    /// reading every byte twice. Files that change while read show up in the layer's own report.
    public func summary(includePaths: Bool) throws -> LayerSummary {
        let summary = try OverlayCapture.summarize(try options(recordPaths: includePaths))
        return LayerSummary(
            json: Array((try OverlayCapture.json(summary) + "\n").utf8),
            entryCount: UInt64(max(0, summary.totalEntries)),
            contentBytes: UInt64(max(0, summary.regularFiles.bytes)))
    }

    public func writeLayer(to fd: FileDescriptor, compression: LayerCompressionFormat) throws -> [UInt8] {
        let summary = try OverlayCapture.capture(try options(recordPaths: false), to: fd, compression: compression)
        return try JSONCoding.encode(summary)
    }
}
