import JSONCoding
import NodeSys
import SystemPackage

/// Entry points of the capture: an overlay upper directory in, an OCI layer tar out.
public enum OverlayCapture {
    public enum Error: Swift.Error, CustomStringConvertible {
        case setup(String)

        public var description: String {
            switch self {
            case .setup(let message): return message
            }
        }
    }

    /// Captures the upper described by `options` as an uncompressed OCI layer (`application/vnd.oci.image.layer.v1.tar`)
    /// into `sink`, which is flushed at the end. Memory stays constant in the data size (one 1 MiB read buffer,
    /// plus one entry per multiply-linked inode and, with `recordPaths`, one per path).
    public static func capture<Sink: ByteSink>(_ options: CaptureOptions, into sink: Sink) throws -> (
        CaptureSummary, Sink
    ) {
        try run(options, into: sink, readFileData: true)
    }

    /// The summary a capture would report, without reading any file data (sizes come from lstat): cheap enough
    /// for progress displays before a pull. `streamBytes` is the exact uncompressed layer size;
    /// `changedWhileReading` stays empty since nothing is read.
    public static func summarize(_ options: CaptureOptions) throws -> CaptureSummary {
        try run(options, into: DiscardingSink(), readFileData: false).0
    }

    private static func run<Sink: ByteSink>(
        _ options: CaptureOptions, into sink: Sink, readFileData: Bool
    ) throws -> (CaptureSummary, Sink) {
        let upper: FileDescriptor
        do { upper = try FileTree.openAnchor(options.upperDirectory) } catch {
            throw Error.setup("cannot open upper directory: \(error)")
        }
        defer { FileTree.closeQuietly(upper) }
        var merged: FileDescriptor?
        if let path = options.mergedDirectory {
            do { merged = try FileTree.openAnchor(path) } catch {
                throw Error.setup("cannot open merged view: \(error)")
            }
        }
        defer { if let merged { FileTree.closeQuietly(merged) } }

        var exclusions = try ExclusionList(options.useDefaultExclusions ? ExclusionList.defaultPatterns : [])
        for pattern in options.exclusions { try exclusions.add(pattern) }
        var names = OwnerNames()
        if let merged {
            if options.readImageExclusions,
                let text = try MergedView.readText(String(CaptureOptions.imageExcludeFile.dropFirst()), in: merged)
            {
                do { try exclusions.addFile(text) } catch {
                    throw Error.setup("\(CaptureOptions.imageExcludeFile): \(error)")
                }
            }
            names = OwnerNames(
                passwd: try MergedView.readText("etc/passwd", in: merged) ?? "",
                group: try MergedView.readText("etc/group", in: merged) ?? "")
        }
        let walker = UpperWalker(
            sink: sink, exclusions: exclusions, names: names, placed: options.bootPlaced, mergedRoot: merged,
            recordPaths: options.recordPaths)
        walker.readFileData = readFileData
        try walker.run(root: upper)
        return (walker.summary, walker.writer.sink)
    }

    /// Captures to a file descriptor (stdout, a socket, a file) through a fixed 1 MiB buffer.
    public static func capture(
        _ options: CaptureOptions, to output: FileDescriptor, compression: LayerCompressionFormat = .none
    ) throws -> CaptureSummary {
        let fileSink = FileDescriptorSink(output)
        var summary: CaptureSummary
        switch compression {
        case .none:
            (summary, _) = try capture(options, into: fileSink)
        case .gzip, .zstd:
            let compressor = try CompressingSink(compression, downstream: fileSink)
            (summary, _) = try capture(options, into: compressor)
            try compressor.finish()
            summary.compressedBytes = fileSink.bytesWritten
        }
        return summary
    }

    /// Reads a boot-placed manifest (`/run/nodeinit/placed.json`); a missing file yields no records.
    public static func loadBootPlaced(_ path: FilePath) throws -> [BootPlacedRecord] {
        let directory = FileTree.openAnchorParent(path)
        guard
            let text = try directory.flatMap({ dir -> String? in
                defer { FileTree.closeQuietly(dir) }
                return try MergedView.readText(path.lastComponent?.string ?? "", in: dir)
            })
        else { return [] }
        do {
            return try JSONCoding.decode(BootPlacedManifest.self, from: Array(text.utf8)).entries
        } catch {
            throw Error.setup("\(path): invalid boot-placed manifest: \(error)")
        }
    }

    /// The summary as pretty JSON.
    public static func json(_ summary: CaptureSummary) throws -> String {
        String(decoding: try JSONCoding.encode(summary, pretty: true), as: UTF8.self)
    }
}
