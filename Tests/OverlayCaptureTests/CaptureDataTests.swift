import Foundation
import NodeSys
import SystemPackage
import Testing

@testable import OverlayCapture

/// File data paths of the walker on a plain directory (no overlay needed): buffered small files, in-kernel copies
/// of large runs, holes, into a file and into a pipe, uncompressed and compressed.
struct CaptureDataTests {
    static func makeUpper() throws -> String {
        let base = try TestSupport.makeTempDirectory("data")
        try TestSupport.run([
            "sh", "-ec",
            """
            cd \(base) && mkdir upper && cd upper
            head -c 3000000 /dev/urandom > large.bin
            echo small > small.txt
            head -c 700000 /dev/urandom > holes.bin
            truncate -s 20000000 holes.bin
            dd if=/dev/urandom of=holes.bin bs=1M seek=30 count=1 conv=notrunc status=none
            """,
        ])
        return base
    }

    static func digests(_ directory: String) throws -> [String: String] {
        let out = String(
            decoding: try TestSupport.run(["sh", "-c", "cd \(directory) && sha256sum large.bin small.txt holes.bin"]),
            as: UTF8.self)
        var result: [String: String] = [:]
        for line in out.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            if parts.count == 2 { result[String(parts[1])] = String(parts[0]) }
        }
        return result
    }

    @Test(arguments: [LayerCompressionFormat.none, .gzip, .zstd], [false, true])
    func contentIsExactIntoFilesAndPipes(_ compression: LayerCompressionFormat, _ throughPipe: Bool) throws {
        let base = try Self.makeUpper()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let layer = base + "/layer.tar"
        let options = CaptureOptions(upperDirectory: FilePath(base + "/upper"), useDefaultExclusions: false)
        if throughPipe {
            // A reader process drains the pipe into the file while we write.
            var fds: [Int32] = [0, 0]
            #expect(pipe(&fds) == 0)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "cat > \(layer)"]
            process.standardInput = FileHandle(fileDescriptor: fds[0], closeOnDealloc: true)
            try process.run()
            let output = FileDescriptor(rawValue: fds[1])
            _ = try output.closeAfter { try OverlayCapture.capture(options, to: output, compression: compression) }
            process.waitUntilExit()
        } else {
            let output = try FileDescriptor.open(
                FilePath(layer), .writeOnly, options: [.create, .truncate], permissions: .ownerReadWrite)
            _ = try output.closeAfter { try OverlayCapture.capture(options, to: output, compression: compression) }
        }
        var plain = layer
        if compression != .none {
            plain = base + "/plain.tar"
            let tool = compression == .gzip ? "gzip -dc" : "zstd -dcq"
            try TestSupport.run(["sh", "-c", "\(tool) < \(layer) > \(plain)"])
        }
        let members = try TestSupport.pythonMembers(plain)
        let expected = try Self.digests(base + "/upper")
        for name in ["large.bin", "small.txt", "holes.bin"] {
            #expect(members.first { $0.name == name }?.sha256 == expected[name], "\(name)")
        }
        #expect(members.first { $0.name == "holes.bin" }?.size == 31 << 20)
    }
}
