import Foundation
import NodeSys
import OverlayCapture
import Synchronization
import SystemPackage
import Testing

@testable import NodeAgent
@testable import NodeSaveClient

/// A hand-made overlay upper over a small image: modified, deleted (whiteout char 0/0), created
/// with an xattr, an opaque directory, an empty directory and a symlink. Needs root (mknod, trusted.*).
struct UpperFixture {
    let base: String
    var image: String { base + "/image" }
    var upper: String { base + "/upper" }

    init() throws {
        base = try makeTemporaryDirectory("save")
        for directory in ["image", "image/d", "image/keep", "image/etc", "upper", "upper/d", "upper/e"] {
            try FileManager.default.createDirectory(atPath: base + "/" + directory, withIntermediateDirectories: true)
        }
        try writeFile(image + "/a.txt", "old a\n")
        try writeFile(image + "/b.txt", "to be deleted\n")
        try writeFile(image + "/d/x", "x\n")
        try writeFile(image + "/d/y", "y\n")
        try writeFile(image + "/keep/k", "kept\n", mode: 0o640)
        try writeFile(image + "/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n")
        try writeFile(image + "/etc/group", "root:x:0:\n")
        try writeFile(upper + "/a.txt", "new a, longer than before\n", mode: 0o600)
        try runTool(["mknod", upper + "/b.txt", "c", "0", "0"])
        try writeFile(upper + "/c.txt", String(repeating: "c", count: 3 << 20))
        try runTool(["setfattr", "-n", "user.note", "-v", "hello", upper + "/c.txt"])
        try runTool(["setfattr", "-n", "trusted.overlay.opaque", "-v", "y", upper + "/d"])
        try writeFile(upper + "/d/z", "z\n")
        try FileManager.default.createSymbolicLink(atPath: upper + "/link", withDestinationPath: "a.txt")
    }

    var producer: OverlayCaptureProducer {
        OverlayCaptureProducer(
            upperDirectory: FilePath(upper), mergedDirectory: FilePath(image),
            bootPlacedManifest: FilePath(base + "/no-placed.json"))
    }

    func remove() { removeTree(base) }
}

/// Runs a tool and returns its stdout. Output goes through a temporary file and the process is
/// started with posix_spawn (ChildCommand): Foundation's Process/FileHandle trap when a read is
/// interrupted by a signal, which happens in a test process full of threads and children.
@discardableResult
func runTool(_ arguments: [String]) throws -> String {
    let directory = try makeTemporaryDirectory("tool")
    defer { removeTree(directory) }
    let output = directory + "/stdout"
    do {
        try ChildCommand.run(
            ["sh", "-c", "out=$1; shift; exec \"$@\" >\"$out\" 2>\"$out.err\"", "sh", output] + arguments)
    } catch {
        let detail = String(
            decoding: ((try? readFile(output)) ?? []) + ((try? readFile(output + ".err")) ?? []), as: UTF8.self)
        throw ChildCommand.Error.failed(
            command: arguments.prefix(3).joined(separator: " "), status: "\(error): \(detail)")
    }
    return String(decoding: try readFile(output), as: UTF8.self)
}

/// path -> "type mode uid gid mtime sha256/target xattrs", symlinks not followed.
func describeTree(_ root: String) throws -> [String: String] {
    let script = """
        import hashlib, os, stat, sys
        root = sys.argv[1]
        for d, ds, fs in os.walk(root):
            for n in sorted(ds + fs):
                p = os.path.join(d, n); st = os.lstat(p)
                e = [stat.S_IFMT(st.st_mode), oct(stat.S_IMODE(st.st_mode)), st.st_uid, st.st_gid, st.st_mtime_ns]
                if stat.S_ISREG(st.st_mode): e.append(hashlib.sha256(open(p, 'rb').read()).hexdigest())
                if stat.S_ISLNK(st.st_mode): e.append(os.readlink(p))
                e.append(sorted((k, os.getxattr(p, k, follow_symlinks=False).hex()) for k in os.listxattr(p, follow_symlinks=False)))
                print(os.path.relpath(p, root) + "\\t" + repr(e))
        """
    var tree: [String: String] = [:]
    for line in try runTool(["python3", "-c", script, root]).split(separator: "\n") {
        let parts = line.split(separator: "\t", maxSplits: 1)
        if parts.count == 2 { tree[String(parts[0])] = String(parts[1]) }
    }
    return tree
}

func directoryNames(_ path: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
}

/// Writes the first `cutAt` bytes of a real layer, then fails: a capture that breaks mid-stream.
struct TruncatingProducer: LayerProducer {
    let inner: OverlayCaptureProducer
    let cutAt: Int
    struct Broken: Error {}
    func summary(includePaths: Bool) throws -> LayerSummary { try inner.summary(includePaths: includePaths) }
    func writeLayer(to fd: FileDescriptor, compression: LayerCompressionFormat) throws -> [UInt8] {
        let (_, sink) = try OverlayCapture.capture(
            CaptureOptions(upperDirectory: try inner.upper.resolve(), mergedDirectory: inner.mergedDirectory),
            into: MemorySink())
        _ = try sink.bytes.prefix(cutAt).withUnsafeBytes { try fd.writeAll($0) }
        throw Broken()
    }
}

/// A real capture whose summary and layer each wait on the other having started: the summary runs only once
/// the layer is streaming, and the layer's data comes only while the summary runs, so a pull that fetched them
/// one after the other would fail instead of finishing.
final class OverlappingProducer: LayerProducer {
    let inner: OverlayCaptureProducer
    init(inner: OverlayCaptureProducer) { self.inner = inner }
    let layerStarted = Atomic<Bool>(false)
    let summaryRunning = Atomic<Bool>(false)
    let overlapped = Atomic<Bool>(false)
    struct NotOverlapped: Error, CustomStringConvertible {
        var description: String { "the summary was not asked for while the layer streamed" }
    }
    func summary(includePaths: Bool) throws -> LayerSummary {
        summaryRunning.store(true, ordering: .sequentiallyConsistent)
        defer { summaryRunning.store(false, ordering: .sequentiallyConsistent) }
        // Held until the layer has seen it (or 5 s): a pull asking for the summary first would wait here in vain.
        for _ in 0..<500 where !overlapped.load(ordering: .sequentiallyConsistent) {
            Pause.sleep(milliseconds: 10)
        }
        return try inner.summary(includePaths: includePaths)
    }
    func writeLayer(to fd: FileDescriptor, compression: LayerCompressionFormat) throws -> [UInt8] {
        layerStarted.store(true, ordering: .sequentiallyConsistent)
        for _ in 0..<500 where !summaryRunning.load(ordering: .sequentiallyConsistent) {
            Pause.sleep(milliseconds: 10)
        }
        guard summaryRunning.load(ordering: .sequentiallyConsistent) else { throw NotOverlapped() }
        overlapped.store(true, ordering: .sequentiallyConsistent)
        return try inner.writeLayer(to: fd, compression: compression)
    }
}

@Suite(.serialized, .enabled(if: getuid() == 0, "needs root: mknod whiteouts, trusted.* xattrs, chown"))
struct PullAndSaveTests {
    @Test func pullAsksForTheSummaryWhileTheLayerStreams() throws {
        let fixture = try UpperFixture()
        defer { fixture.remove() }
        try FileManager.default.createDirectory(atPath: fixture.base + "/out", withIntermediateDirectories: true)
        let producer = OverlappingProducer(inner: fixture.producer)
        try withAgent(producer: producer) { server, _ in
            let pull = LayerPull(client: AgentClient(endpoint: server.localAddress))
            let result = try pull.run(to: fixture.base + "/out/node.tar")
            let overlapped = producer.overlapped.load(ordering: .sequentiallyConsistent)
            #expect(overlapped)
            #expect(result.progress.totals?.entries == result.progress.entries)
            #expect(String(decoding: result.summary, as: UTF8.self).contains("\"whiteouts\""))
        }
    }

    @Test func summaryRefusedBesideTheLayerIsFetchedAfterIt() throws {
        // What an agent with one capture slot per client answers to the summary asked for beside the layer.
        let fixture = try UpperFixture()
        defer { fixture.remove() }
        try withAgent(producer: fixture.producer) { server, _ in
            let client = AgentClient(endpoint: server.localAddress)
            let refused = try ThreadedValue<(head: HTTPResponseHead, body: [UInt8])> {
                throw AgentClient.Error.status(from: server.localAddress, path: "/v1/summary", status: 429, message: "")
            }
            let summary = try LayerPull.summary(after: refused, from: client)
            #expect(summary.head.status == 200)
            #expect(LayerPull.totals(summary.head).entries >= 8)
            // Any other failure is the pull's failure.
            let forbidden = try ThreadedValue<(head: HTTPResponseHead, body: [UInt8])> {
                throw AgentClient.Error.status(from: server.localAddress, path: "/v1/summary", status: 403, message: "")
            }
            #expect(throws: AgentClient.Error.self) { try LayerPull.summary(after: forbidden, from: client) }
        }
    }

    @Test(arguments: [LayerCompressionFormat.none, .gzip, .zstd])
    func pullWritesTheLayerUnderATemporaryNameThenRenames(compression: LayerCompressionFormat) throws {
        let fixture = try UpperFixture()
        defer { fixture.remove() }
        let output = fixture.base + "/out/node.tar"
        try FileManager.default.createDirectory(atPath: fixture.base + "/out", withIntermediateDirectories: true)
        try withAgent(producer: fixture.producer) { server, _ in
            let pull = LayerPull(client: AgentClient(endpoint: server.localAddress), compression: compression)
            var sawPartialOnly = false
            var finalSeenEarly = false
            let result = try pull.run(to: output) { _ in
                let names = directoryNames(fixture.base + "/out")
                if names.contains("node.tar") { finalSeenEarly = true }
                if names.count == 1, names[0].hasPrefix(".node.tar.partial-") { sawPartialOnly = true }
            }
            #expect(sawPartialOnly)
            #expect(!finalSeenEarly)
            #expect(directoryNames(fixture.base + "/out") == ["node.tar"])
            // a.txt, b.txt whiteout, c.txt, d + opaque marker, d/z, e, link (+ the root directory, if listed)
            #expect(result.progress.entries >= 8)
            #expect(result.progress.totals?.entries == result.progress.entries)
            #expect(result.progress.totals?.contentBytes == result.progress.contentBytes)
            #expect(result.progress.contentBytes >= 3 << 20)
            let report = try #require(result.report)
            #expect(String(decoding: report, as: UTF8.self).contains("\"whiteouts\""))
            // The file is the layer in the asked compression, and GNU tar lists the changes in it.
            let listing = try runTool(["tar", "-tf", output])
            for name in ["a.txt", "c.txt", ".wh.b.txt", "d/.wh..wh..opq", "d/z", "link"] {
                #expect(listing.contains(name), "\(name) missing from \(listing)")
            }
        }
    }

    @Test func failedPullLeavesNoFile() throws {
        let fixture = try UpperFixture()
        defer { fixture.remove() }
        try FileManager.default.createDirectory(atPath: fixture.base + "/out", withIntermediateDirectories: true)
        try withAgent(producer: TruncatingProducer(inner: fixture.producer, cutAt: 1 << 20)) { server, _ in
            let pull = LayerPull(client: AgentClient(endpoint: server.localAddress))
            #expect(throws: AgentClient.Error.self) { try pull.run(to: fixture.base + "/out/node.tar") }
            #expect(directoryNames(fixture.base + "/out") == [])
        }
        try withAgent(producer: fixture.producer, token: "the-token") { server, _ in
            let pull = LayerPull(
                client: AgentClient(endpoint: server.localAddress, token: BearerToken("not-the-token")))
            #expect(throws: AgentClient.Error.self) { try pull.run(to: fixture.base + "/out/node.tar") }
            #expect(directoryNames(fixture.base + "/out") == [])
        }
    }

    @Test func saveAppliesTheChangesToACopyAndLeavesTheOriginalUntouched() throws {
        let fixture = try UpperFixture()
        defer { fixture.remove() }
        let before = try describeTree(fixture.image)
        let newImage = fixture.base + "/image-saved"
        try withAgent(producer: fixture.producer) { server, _ in
            let save = ImageSave(pull: LayerPull(client: AgentClient(endpoint: server.localAddress)))
            let result = try save.run(image: fixture.image, newImage: newImage)
            #expect(result.applied.whiteouts == 1)
            #expect(result.applied.opaqueDirectories == 1)
        }
        #expect(try describeTree(fixture.image) == before)
        let saved = try describeTree(newImage)
        let upper = try describeTree(fixture.upper)
        #expect(saved["a.txt"] == upper["a.txt"])
        #expect(saved["b.txt"] == nil)
        #expect(saved["c.txt"] == upper["c.txt"])
        #expect(saved["c.txt"]?.contains("user.note") == true)
        #expect(saved["d/x"] == nil && saved["d/y"] == nil)
        #expect(saved["d/z"] == upper["d/z"])
        #expect(saved["e"] != nil)
        #expect(saved["link"] == upper["link"])
        #expect(saved["keep/k"] == before["keep/k"])
        #expect(saved["etc/passwd"] == before["etc/passwd"])
        // Nothing left behind: no staging copy, no layer file.
        #expect(directoryNames(fixture.base) == ["image", "image-saved", "upper"])
    }

    /// The README's recipe for OCI images: a pulled layer added verbatim by umoci, unpacked again,
    /// gives the same tree as `nodeinit save`.
    @Test func pulledLayerAddedByUmociMatchesSave() throws {
        let fixture = try UpperFixture()
        defer { fixture.remove() }
        let layer = fixture.base + "/node.tar"
        let layout = fixture.base + "/oci"
        try withAgent(producer: fixture.producer) { server, _ in
            _ = try LayerPull(client: AgentClient(endpoint: server.localAddress)).run(to: layer)
            _ = try ImageSave(pull: LayerPull(client: AgentClient(endpoint: server.localAddress)))
                .run(image: fixture.image, newImage: fixture.base + "/saved")
        }
        try runTool(["umoci", "init", "--layout", layout])
        try runTool(["umoci", "new", "--image", layout + ":base"])
        try runTool(["umoci", "unpack", "--image", layout + ":base", fixture.base + "/bundle"])
        try runTool(["cp", "-a", fixture.image + "/.", fixture.base + "/bundle/rootfs/"])
        try runTool(["umoci", "repack", "--image", layout + ":base", fixture.base + "/bundle"])
        try runTool(["umoci", "raw", "add-layer", "--image", layout + ":base", "--tag", "saved", layer])
        try runTool(["umoci", "unpack", "--image", layout + ":saved", fixture.base + "/bundle2"])
        // umoci restores mtimes to whole seconds: compare everything but the mtime field.
        func withoutTimes(_ tree: [String: String]) -> [String: String] {
            tree.mapValues { entry in
                var fields = entry.split(separator: ",", omittingEmptySubsequences: false)
                if fields.count > 4 { fields[4] = "t" }
                return fields.joined(separator: ",")
            }
        }
        let viaUmoci = withoutTimes(try describeTree(fixture.base + "/bundle2/rootfs"))
        let viaSave = withoutTimes(try describeTree(fixture.base + "/saved"))
        #expect(Set(viaUmoci.keys) == Set(viaSave.keys))
        for (path, entry) in viaSave where path != "." {
            #expect(viaUmoci[path] == entry, "\(path)")
        }
    }

    @Test func saveRefusesAnExistingTargetAndCleansUpOnFailure() throws {
        let fixture = try UpperFixture()
        defer { fixture.remove() }
        try withAgent(producer: fixture.producer) { server, _ in
            let save = ImageSave(pull: LayerPull(client: AgentClient(endpoint: server.localAddress)))
            #expect(throws: ImageSave.Error.targetExists(fixture.upper)) {
                try save.run(image: fixture.image, newImage: fixture.upper)
            }
        }
        try withAgent(producer: TruncatingProducer(inner: fixture.producer, cutAt: 700_000)) { server, _ in
            let save = ImageSave(pull: LayerPull(client: AgentClient(endpoint: server.localAddress)))
            #expect(throws: (any Error).self) { try save.run(image: fixture.image, newImage: fixture.base + "/new") }
        }
        #expect(directoryNames(fixture.base) == ["image", "upper"])
    }
}

@Suite struct NodeEndpointTests {
    static let hosts = """
        127.0.0.1\tlocalhost
        # 10.9.9.9 commented
        10.0.0.12   node12 node12.cluster   # trailing comment
        2001:db8::5 v6node
        """

    @Test(arguments: [
        ("10.0.0.5", "10.0.0.5:7070"),
        ("10.0.0.5:7071", "10.0.0.5:7071"),
        ("2001:db8::1", "[2001:db8::1]:7070"),
        ("[2001:db8::1]:8080", "[2001:db8::1]:8080"),
        ("node12", "10.0.0.12:7070"),
        ("NODE12.cluster:9000", "10.0.0.12:9000"),
        ("v6node", "[2001:db8::5]:7070"),
    ])
    func resolves(text: String, expected: String) throws {
        let directory = try makeTemporaryDirectory("hosts")
        defer { removeTree(directory) }
        try writeFile(directory + "/hosts", Self.hosts)
        #expect(try NodeEndpoint.resolve(text, hostsFile: directory + "/hosts").description == expected)
    }

    @Test(arguments: ["10.9.9.9x", "node13", "node12:0", "node12:65536", "node12:x", "[::1", "bad_name!", ""])
    func refuses(text: String) throws {
        let directory = try makeTemporaryDirectory("hosts")
        defer { removeTree(directory) }
        try writeFile(directory + "/hosts", Self.hosts)
        #expect(throws: NodeEndpoint.Error.self) { try NodeEndpoint.resolve(text, hostsFile: directory + "/hosts") }
    }
}

@Suite struct PullProgressTests {
    @Test func lineShowsSizesEntriesRateAndETA() {
        var progress = PullProgress()
        progress.totals = .init(entries: 5000, contentBytes: 40 << 20)
        progress.contentBytes = 10 << 20
        progress.streamBytes = 10 << 20
        progress.entries = 1234
        progress.elapsedSeconds = 2
        #expect(
            progress.line == "[#####...............] 25%  10.0 MiB of 40.0 MiB  1234/5000 entries  5.0 MiB/s  ETA 0:06")
    }

    @Test(arguments: [
        (0.4, "0:01"), (59, "0:59"), (61, "1:01"), (3725, "1:02:05"), (1e21, "--:--"), (Double.infinity, "--:--"),
        (-1, "--:--"), (Double.nan, "--:--"),
    ])
    func clockNeverTraps(seconds: Double, expected: String) {
        #expect(PullProgress.clock(seconds) == expected)
    }

    @Test func lineBeforeTheSummaryArrivesShowsWhatCameSoFar() {
        var progress = PullProgress()
        progress.contentBytes = 3 << 20
        progress.streamBytes = 4 << 20
        progress.entries = 17
        progress.elapsedSeconds = 2
        #expect(progress.contentDone == 4 << 20)
        #expect(progress.line == "4.0 MiB  17 entries  2.0 MiB/s")
        progress.compressed = true
        #expect(progress.contentDone == 3 << 20)
        #expect(progress.line == "3.0 MiB  17 entries  4.0 MiB received  1.5 MiB/s")
    }

    @Test func stalledCompressedPullShowsNoBogusETA() {
        var progress = PullProgress()
        progress.compressed = true
        progress.totals = .init(entries: 0, contentBytes: 1 << 50)
        progress.contentBytes = 1
        progress.streamBytes = 100
        progress.elapsedSeconds = 1e6
        #expect(progress.line.hasSuffix("ETA --:--"))
        #expect(progress.line.contains("100 B received"))
    }
}
