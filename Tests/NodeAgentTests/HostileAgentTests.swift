import Foundation
import NodeSys
import OverlayCapture
import Synchronization
import SystemPackage
import Testing
@testable import NodeAgent

#if canImport(Glibc)
import Glibc
#endif

/// Serves fixed layer bytes, whatever compression was asked (the bytes say which one they are).
struct FixedLayerProducer: LayerProducer {
    let bytes: [UInt8]
    func summary(includePaths: Bool) throws -> LayerSummary {
        LayerSummary(json: Array("{}".utf8), entryCount: 0, contentBytes: 0)
    }
    func writeLayer(to fd: FileDescriptor, compression: LayerCompression) throws -> [UInt8] {
        _ = try bytes.withUnsafeBytes { try fd.writeAll($0) }
        return Array("{}".utf8)
    }
}

/// A small tar: `count` files of a few KB each.
func sampleTar(count: Int = 20) throws -> [UInt8] {
    var writer = TarWriter(sink: MemorySink())
    for index in 0..<count {
        let data = Array(String(repeating: "entry \(index) ", count: 300).utf8)
        try writer.append(TarEntry(path: "f\(index)", kind: .regular, permissions: 0o644, size: Int64(data.count)))
        try data.withUnsafeBytes { try writer.appendData($0) }
    }
    try writer.finish()
    return writer.sink.bytes
}

func compressed(_ bytes: [UInt8], _ compression: LayerCompression) throws -> [UInt8] {
    let sink = try CompressingSink(compression, downstream: MemorySink())
    try bytes.withUnsafeBytes { try sink.write($0) }
    try sink.finish()
    return sink.downstream.bytes
}

@Suite(.serialized) struct PartialLayerPullTests {
    /// The agent's stream itself is complete (last chunk sent); the tar inside is not.
    @Test(arguments: [LayerCompression.none, .gzip, .zstd])
    func pullOfATarWithoutItsEndMarkerLeavesNoFile(compression: LayerCompression) throws {
        let tar = try sampleTar()
        // Cut right after the last member's data, on a block boundary: no end-of-archive blocks.
        let dataEnd = tar.count - 1024 - tar.prefix(tar.count - 1024).reversed().prefix(while: { $0 == 0 }).count
        let body = Array(tar.prefix((dataEnd + 511) / 512 * 512))
        let layer = compression == .none ? body : try compressed(body, compression)
        let directory = try makeTemporaryDirectory("partial-pull")
        defer { removeTree(directory) }
        try withAgent(producer: FixedLayerProducer(bytes: layer)) { server, _ in
            let pull = LayerPull(client: AgentClient(endpoint: server.localAddress), compression: compression)
            var message = "no error"
            do { _ = try pull.run(to: directory + "/node.tar") } catch { message = "\(error)" }
            #expect(message.contains("without its end-of-archive marker"), "\(message)")
            #expect(directoryNames(directory) == [])
        }
    }

    @Test func pullReadsEveryGzipMember() throws {
        let tar = try sampleTar()
        let layer = try compressed(Array(tar.prefix(3000)), .gzip) + compressed(Array(tar.dropFirst(3000)), .gzip)
        let directory = try makeTemporaryDirectory("multi-pull")
        defer { removeTree(directory) }
        try withAgent(producer: FixedLayerProducer(bytes: layer)) { server, _ in
            let pull = LayerPull(client: AgentClient(endpoint: server.localAddress), compression: .gzip)
            let result = try pull.run(to: directory + "/node.tar.gz")
            #expect(result.progress.entries == 20)
            #expect(try readFile(directory + "/node.tar.gz") == layer)
        }
    }

    @Test func pullOfTrailingGarbageLeavesNoFile() throws {
        let layer = try compressed(try sampleTar(), .zstd) + Array("garbage".utf8)
        let directory = try makeTemporaryDirectory("garbage-pull")
        defer { removeTree(directory) }
        try withAgent(producer: FixedLayerProducer(bytes: layer)) { server, _ in
            let pull = LayerPull(client: AgentClient(endpoint: server.localAddress), compression: .zstd)
            var message = "no error"
            do { _ = try pull.run(to: directory + "/node.tar.zst") } catch { message = "\(error)" }
            #expect(message.contains("trailing garbage at compressed byte"), "\(message)")
            #expect(directoryNames(directory) == [])
        }
    }
}
