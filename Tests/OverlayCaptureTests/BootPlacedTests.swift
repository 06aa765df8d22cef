import Foundation
import NodeSys
import SystemPackage
import Testing

@testable import OverlayCapture

/// The placed.json manifest: recorded by the boot code, read by capture; unchanged placements are left out.
struct BootPlacedTests {
    @Test func manifestRoundTripAndCaptureLeavesOutOnlyUnchangedPlacements() throws {
        let base = try TestSupport.makeTempDirectory("placed")
        defer { try? FileManager.default.removeItem(atPath: base) }
        try FileManager.default.createDirectory(atPath: base + "/upper/etc", withIntermediateDirectories: true)
        try TestSupport.write(base + "/upper/etc/hostname", "node1\n")
        try TestSupport.write(base + "/upper/etc/resolv.conf", "nameserver 10.0.0.1\n")
        let manifest = try BootPlacedManifest.record(
            paths: ["/etc/hostname", "/etc/resolv.conf", "/etc/absent"], upperDirectory: base + "/upper")
        #expect(manifest.entries.map(\.path) == ["/etc/hostname", "/etc/resolv.conf"])
        try Data(try manifest.json()).write(to: URL(fileURLWithPath: base + "/placed.json"))
        let loaded = try OverlayCapture.loadBootPlaced(FilePath(base + "/placed.json"))
        #expect(loaded == manifest.entries)
        #expect(try OverlayCapture.loadBootPlaced(FilePath(base + "/nothing.json")).isEmpty)

        // The user rewrites resolv.conf after boot (same size: only mtime/ctime tell).
        Thread.sleep(forTimeInterval: 0.01)
        try TestSupport.write(base + "/upper/etc/resolv.conf", "nameserver 10.0.0.2\n")
        let options = CaptureOptions(upperDirectory: FilePath(base + "/upper"), bootPlaced: loaded, recordPaths: true)
        let (summary, sink) = try OverlayCapture.capture(options, into: MemorySink())
        #expect(summary.unchangedBootPlaced == 1)
        let paths = summary.paths?.map(\.path) ?? []
        #expect(!paths.contains("/etc/hostname"))
        #expect(paths.contains("/etc/resolv.conf"))
        #expect(sink.bytes.count == Int(summary.streamBytes))
        // The data-free summary agrees with the real capture.
        var quick = try OverlayCapture.summarize(options)
        #expect(quick.streamBytes == summary.streamBytes)
        quick.streamBytes = summary.streamBytes
        #expect(quick == summary)

        try TestSupport.write(base + "/bad.json", "{\"version\":1}")
        #expect(throws: (any Error).self) { try OverlayCapture.loadBootPlaced(FilePath(base + "/bad.json")) }
    }
}
