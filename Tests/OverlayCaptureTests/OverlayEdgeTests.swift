import Foundation
import NodeSys
import SystemPackage
import Testing

@testable import OverlayCapture

/// Overlay features our node mounts turn off (metacopy, redirect_dir), and files that change while read.
@Suite(.serialized)
struct OverlayEdgeTests {
    @Test(.enabled(if: TestSupport.isRoot, "needs root to mount overlayfs"))
    func metacopyDataComesFromTheMergedViewAndRedirectsAreRefused() throws {
        let overlay = try OverlayIntegrationTests.Overlay()
        defer { overlay.cleanUp() }
        try TestSupport.run([
            "sh", "-ec",
            "cd \(overlay.lower) && mkdir -p dir && echo lowerdata > data.bin && chmod 0644 data.bin && echo x > dir/f",
        ])
        let options =
            "lowerdir=\(overlay.lower),upperdir=\(overlay.upper),workdir=\(overlay.base)/rw/work,redirect_dir=on,metacopy=on,index=off,xino=off"
        do {
            try TestSupport.run(["mount", "-t", "overlay", "capture-test-ovl", "-o", options, overlay.merged])
        } catch {
            // Kernels built without metacopy support refuse the option; nothing to test there.
            return
        }
        defer { _ = try? TestSupport.run(["umount", overlay.merged]) }
        try TestSupport.run(["chmod", "0600", overlay.merged + "/data.bin"])
        let upperDirectory = try FileTree.openAnchor(FilePath(overlay.upper))
        defer { FileTree.closeQuietly(upperDirectory) }
        let marker = try FileTree.extendedAttribute(
            in: upperDirectory, "data.bin", attribute: "trusted.overlay.metacopy")
        #expect(marker != nil, "the chmod made a metadata-only copy-up (upper file is a hole)")

        let first = try capture(overlay)
        let member = try #require(first.members.first { $0.name == "data.bin" })
        #expect(member.size == 10)
        #expect(member.mode == 0o600)
        let expectedDigest = String(
            decoding: try TestSupport.run(["sh", "-c", "sha256sum < \(overlay.merged)/data.bin | cut -d' ' -f1"]),
            as: UTF8.self)
        #expect(member.sha256 == expectedDigest.trimmingCharacters(in: .whitespacesAndNewlines))

        // Without the merged view a metacopy cannot be captured.
        #expect(throws: (any Error).self) {
            _ = try OverlayCapture.capture(CaptureOptions(upperDirectory: FilePath(overlay.upper)), into: MemorySink())
        }

        // A renamed lower directory becomes a redirect: refused, naming the path.
        try TestSupport.run(["mv", overlay.merged + "/dir", overlay.merged + "/moved"])
        do {
            _ = try capture(overlay)
            Issue.record("a redirect must be refused")
        } catch {
            #expect("\(error)".contains("/moved"))
            #expect("\(error)".contains("redirect"))
        }
    }

    private func capture(_ overlay: OverlayIntegrationTests.Overlay) throws -> (
        summary: CaptureSummary, members: [TestSupport.Member]
    ) {
        let path = overlay.base + "/layer.tar"
        let output = try FileDescriptor.open(
            FilePath(path), .writeOnly, options: [.create, .truncate], permissions: .ownerReadWrite)
        let summary = try output.closeAfter {
            try OverlayCapture.capture(
                CaptureOptions(upperDirectory: FilePath(overlay.upper), mergedDirectory: FilePath(overlay.merged)),
                to: output)
        }
        return (summary, try TestSupport.pythonMembers(path))
    }

    /// sysfs files claim 4096 bytes and return a few: the short read is padded to the header size, the stream
    /// stays a valid tar and every such file is named in the report.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/sys/module/overlay/parameters/index")))
    func shortReadsArePaddedAndReported() throws {
        let directory = try TestSupport.makeTempDirectory("short")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/layer.tar"
        let output = try FileDescriptor.open(
            FilePath(path), .writeOnly, options: [.create, .truncate], permissions: .ownerReadWrite)
        let summary = try output.closeAfter {
            try OverlayCapture.capture(
                CaptureOptions(upperDirectory: "/sys/module/overlay/parameters", useDefaultExclusions: false),
                to: output)
        }
        #expect(summary.changedWhileReading.contains("/index"))
        let members = try TestSupport.pythonMembers(path)
        let index = try #require(members.first { $0.name == "index" })
        #expect(index.size == 4096)
        let content = try Data(contentsOf: URL(fileURLWithPath: "/sys/module/overlay/parameters/index"))
        #expect(content.count < 4096)
    }
}
