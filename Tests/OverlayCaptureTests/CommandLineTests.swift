import Foundation
import Testing

/// The built `nodeinit` (swift build --build-tests builds it next to the tests).
let builtNodeinitForCapture: String = {
    var path = #filePath
    for _ in 0..<3 { path = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)]) }
    return path + "/.build/debug/nodeinit"
}()

/// `nodeinit capture` and `nodeinit apply` through the built executable: flags, stdout, summary file, exit codes.
@Suite(.enabled(if: access(builtNodeinitForCapture, X_OK) == 0, "needs the nodeinit executable built"))
struct CommandLineTests {
    static let binary = builtNodeinitForCapture

    @Test(arguments: ["none", "gzip", "zstd"])
    func captureThenApplyReproducesTheTree(_ compression: String) throws {
        let base = try TestSupport.makeTempDirectory("cli")
        defer { try? FileManager.default.removeItem(atPath: base) }
        try TestSupport.run([
            "sh", "-ec",
            """
            mkdir -p \(base)/upper/etc/conf.d \(base)/upper/tmp \(base)/image
            echo one > \(base)/upper/etc/conf.d/one; echo skip > \(base)/upper/etc/skip.me
            ln -s conf.d/one \(base)/upper/etc/link; echo t > \(base)/upper/tmp/t; chmod 0750 \(base)/upper/etc/conf.d
            """,
        ])
        try TestSupport.run([
            "sh", "-ec",
            """
            \(Self.binary) capture --upper \(base)/upper --merged \(base)/upper --placed /nonexistent \
              --exclude /etc/skip.me --compress \(compression) --summary \(base)/summary.json --per-path > \(base)/layer
            \(Self.binary) apply \(base)/layer \(base)/image
            """,
        ])
        let summary =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: base + "/summary.json")))
            as? [String: Any]
        #expect((summary?["excluded"] as? Int) == 2)  // /etc/skip.me and /tmp/t
        #expect(((summary?["paths"] as? [Any])?.count ?? 0) == 5)  // etc, etc/conf.d, etc/conf.d/one, etc/link, tmp
        var expected = try TestSupport.tree(base + "/upper")
        expected.removeValue(forKey: "etc/skip.me")
        expected.removeValue(forKey: "tmp/t")
        #expect(try TestSupport.tree(base + "/image") == expected)
    }

    @Test func badArgumentsAndHostileLayersFailWithAMessage() throws {
        let base = try TestSupport.makeTempDirectory("cli-bad")
        defer { try? FileManager.default.removeItem(atPath: base) }
        #expect(throws: TestSupport.CommandFailed.self) {
            try TestSupport.run([Self.binary, "capture", "--upper", base, "--compress", "lz4"])
        }
        #expect(throws: TestSupport.CommandFailed.self) {
            try TestSupport.run([Self.binary, "capture", "--upper", base + "/missing"])
        }
        try TestSupport.run([
            "sh", "-ec",
            "mkdir -p \(base)/image && cd \(base) && python3 -c \"import tarfile,io; t=tarfile.open('evil.tar','w'); i=tarfile.TarInfo('../escape'); i.size=1; t.addfile(i, io.BytesIO(b'x')); t.close()\"",
        ])
        do {
            try TestSupport.run([Self.binary, "apply", base + "/evil.tar", base + "/image"])
            Issue.record("a layer with ../ must be refused")
        } catch let failure as TestSupport.CommandFailed {
            #expect(failure.stderr.contains("../escape"))
        }
        #expect(!FileManager.default.fileExists(atPath: base + "/escape"))
    }
}
