import Foundation
import NFSFiles
import Testing

@Suite("NFSFiles: URL parsing and whole-file reads with libnfs")
struct NFSFileReaderTests {
    @Test(arguments: [
        ("nfs://10.0.2.2/srv/tables/litefile.csv", "10.0.2.2", "/srv/tables/litefile.csv"),
        ("nfs://[fd00::1]/t/litetree.csv", "fd00::1", "/t/litetree.csv"),
    ])
    func parses(url: String, server: String, path: String) throws {
        let parsed = try NFSURL(parsing: url)
        #expect(parsed.server == server)
        #expect(parsed.path == path)
        #expect(parsed.description == url)
    }

    @Test(arguments: [
        "http://x/y", "nfs://server.example/t", "nfs://10.0.0.1/", "nfs://10.0.0.1/a/../b", "nfs://10.0.0.1:2049/a",
        "nfs:///a",
    ])
    func refuses(url: String) {
        #expect(throws: NFSURL.Error.self) { _ = try NFSURL(parsing: url) }
    }

    @Test func unreachableServerFailsWithinTheTimeoutNamingTheURL() throws {
        let start = Date()
        let reader = NFSFileReader(timeoutMilliseconds: 1000)
        do {
            _ = try reader.read(NFSURL(server: "127.0.0.1", path: "/nowhere/litefile.csv"))
            Issue.record("read from a closed port succeeded")
        } catch {
            #expect(error.description.contains("nfs://127.0.0.1/nowhere/litefile.csv"))
        }
        #expect(Date().timeIntervalSince(start) < 30)
    }

    /// Against a live server: `NODEINIT_TEST_NFS_URL=nfs://127.0.0.1/<export>/<file>` and
    /// `NODEINIT_TEST_NFS_CONTENT=<expected text>` (Tests/System/test_statelite.py's nfs:// litetree covers it in QEMU).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["NODEINIT_TEST_NFS_URL"] != nil, "no NFS server given"))
    func readsAWholeFileFromALiveServer() throws {
        let environment = ProcessInfo.processInfo.environment
        let url = try NFSURL(parsing: environment["NODEINIT_TEST_NFS_URL"] ?? "")
        let bytes = try NFSFileReader().read(url)
        #expect(String(decoding: bytes, as: UTF8.self) == environment["NODEINIT_TEST_NFS_CONTENT"])
    }
}
