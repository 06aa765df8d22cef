import Foundation
import NodeSys
import SystemPackage
import Testing

@testable import LayerApply
@testable import OverlayCapture

/// Names and records from a hostile layer reach messages escaped and bounded, and PAX records are bounded.
struct HostileTextTests {
    @Test(arguments: [
        ("plain/name.txt", "plain/name.txt"),
        ("a\u{1b}[31mred", "a\\x1b[31mred"),
        ("cr\rlf\nnul\u{0}del\u{7f}", "cr\\x0dlf\\x0anul\\x00del\\x7f"),
        ("c1\u{9b}2J", "c1\\u{009b}2J"),
        ("bidi\u{202e}txt.exe", "bidi\\u{202e}txt.exe"),
        ("back\\slash", "back\\\\slash"),
        ("émoji 🎉", "émoji 🎉"),
    ])
    func controlsAreEscaped(_ raw: String, _ shown: String) {
        #expect(DisplayText.safe(raw) == shown)
    }

    @Test func longTextIsCutWithItsLength() {
        let long = String(repeating: "A", count: 5000)
        let shown = DisplayText.safe(long)
        #expect(shown.utf8.count < 300)
        #expect(shown.hasSuffix("...(5000 bytes)"))
    }

    @Test func applyErrorsShowNoRawControlsAndNoHugeNames() throws {
        let base = try TestSupport.makeTempDirectory("hostile-text")
        defer { try? FileManager.default.removeItem(atPath: base) }
        for name in ["../\u{1b}]0;owned\u{7}x", "../" + String(repeating: "n", count: 4000)] {
            let layer = try TestSupport.tar([
                (TarEntry(path: PathBytes(name), kind: .regular, uid: getuid(), gid: getgid()), [])
            ])
            var message = ""
            do { _ = try LayerApplier.apply(MemorySource(layer), to: FilePath(base)) } catch { message = "\(error)" }
            #expect(message.contains("'..' component"), "\(message)")
            #expect(!message.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f }, "\(message)")
            #expect(message.utf8.count < 400, "\(message.utf8.count) bytes")
        }
    }

    /// 20 global headers of 100 KB each (distinct keys): over the 1 MiB bound for records kept all stream long.
    @Test func globalPaxRecordsAreBounded() throws {
        let script = """
            import sys, tarfile
            out = b""
            for i in range(20):
                value = "v" * 100000
                record = "k%d=%s\\n" % (i, value)
                length = len(record) + 1
                while len(str(length)) + len(record) + 1 != length:
                    length = len(str(length)) + len(record) + 1
                body = ("%d %s" % (length, record)).encode()
                info = tarfile.TarInfo("pax_global_header")
                info.type = tarfile.XGLTYPE
                info.size = len(body)
                out += info.tobuf(format=tarfile.USTAR_FORMAT) + body + b"\\0" * ((512 - len(body) % 512) % 512)
            out += b"\\0" * 1024
            sys.stdout.buffer.write(out)
            """
        let bytes = Array(try TestSupport.run(["python3", "-c", script]))
        #expect(bytes.count > 2_000_000)
        var reader = TarReader(source: MemorySource(bytes))
        defer { reader.close() }
        var message = ""
        do { while try reader.next() != nil {} } catch { message = "\(error)" }
        #expect(message.contains("pax global records"), "\(message)")
    }
}
