import Foundation
import NodeSys
import SystemPackage
import Testing

@testable import LayerApply
@testable import OverlayCapture

/// Captures a real overlayfs after every kind of change, then checks the layer three independent ways:
/// Python's tarfile reading it, `nodeinit`'s applier on a copy of the lower, and umoci adding it to an OCI image
/// built from the lower and unpacking the result. Both unpacked trees must equal the merged view.
@Suite(.serialized, .enabled(if: TestSupport.isRoot, "needs root to mount overlayfs and tmpfs"))
struct OverlayIntegrationTests {
    /// A mounted overlay (tmpfs upper, directory lower) that unmounts and removes itself.
    final class Overlay {
        let base: String
        var lower: String { base + "/lower" }
        var upper: String { base + "/rw/upper" }
        var merged: String { base + "/merged" }
        private var mounts: [String] = []

        init() throws {
            base = try TestSupport.makeTempDirectory("ovl")
            do {
                for directory in ["lower", "rw", "merged"] {
                    try FileManager.default.createDirectory(
                        atPath: base + "/" + directory, withIntermediateDirectories: true)
                }
                try TestSupport.run(["mount", "-t", "tmpfs", "-o", "size=512m", "capture-test-rw", base + "/rw"])
                mounts.append(base + "/rw")
                try FileManager.default.createDirectory(atPath: upper, withIntermediateDirectories: true)
                try FileManager.default.createDirectory(atPath: base + "/rw/work", withIntermediateDirectories: true)
            } catch {
                cleanUp()
                throw error
            }
        }

        func mount() throws {
            let options =
                "lowerdir=\(lower),upperdir=\(upper),workdir=\(base)/rw/work,redirect_dir=off,metacopy=off,index=off,xino=off"
            try TestSupport.run(["mount", "-t", "overlay", "capture-test-ovl", "-o", options, merged])
            mounts.append(merged)
        }

        func cleanUp() {
            for mount in mounts.reversed() {
                if (try? TestSupport.run(["umount", mount])) == nil {
                    _ = try? TestSupport.run(["umount", "-l", mount])
                }
            }
            mounts = []
            try? FileManager.default.removeItem(atPath: base)
        }

        deinit { cleanUp() }

        /// Captures the upper (with the merged view) into `base/layer.tar`; returns the summary and the path.
        func captureLayer(bootPlaced: [BootPlacedRecord] = []) throws -> (summary: CaptureSummary, path: String) {
            let layerPath = base + "/layer.tar"
            let output = try FileDescriptor.open(
                FilePath(layerPath), .writeOnly, options: [.create, .truncate], permissions: .ownerReadWrite)
            let summary = try output.closeAfter {
                try OverlayCapture.capture(
                    CaptureOptions(
                        upperDirectory: FilePath(upper), mergedDirectory: FilePath(merged), bootPlaced: bootPlaced,
                        recordPaths: true),
                    to: output)
            }
            return (summary, layerPath)
        }

        /// Applies `layerPath` to a copy of the lower (`base/image`), as `nodeinit save` does to a copy of the image.
        func applyToCopyOfLower(_ layerPath: String) throws -> (summary: ApplySummary, image: String) {
            let image = base + "/image"
            try TestSupport.run(["cp", "-a", lower, image])
            let layer = try FileDescriptor.open(FilePath(layerPath), .readOnly)
            let summary = try layer.closeAfter {
                try LayerApplier.apply(FileDescriptorSource(layer), to: FilePath(image))
            }
            return (summary, image)
        }

        /// umoci: the lower as an OCI image, `layerPath` added verbatim as its top layer, unpacked again;
        /// returns the unpacked root file system.
        func umociUnpackWithLayer(_ layerPath: String) throws -> String {
            let layout = base + "/oci"
            try TestSupport.run(["umoci", "init", "--layout", layout])
            try TestSupport.run(["umoci", "new", "--image", layout + ":base"])
            try TestSupport.run(["umoci", "unpack", "--image", layout + ":base", base + "/bundle"])
            try TestSupport.run(["sh", "-ec", "cp -a \(lower)/. \(base)/bundle/rootfs/"])
            try TestSupport.run(["umoci", "repack", "--image", layout + ":base", base + "/bundle"])
            try TestSupport.run(["umoci", "raw", "add-layer", "--image", layout + ":base", "--tag", "saved", layerPath])
            try TestSupport.run(["umoci", "unpack", "--image", layout + ":saved", base + "/bundle2"])
            return base + "/bundle2/rootfs"
        }
    }

    static let lowerScript = """
        mkdir -p etc deldir/sub opq/sub tmp usr/bin emptyparent
        echo keep > etc/keep.txt; echo old > etc/modify.txt; echo bye > etc/delete.txt
        echo a > deldir/a; echo b > deldir/sub/b
        echo o1 > opq/old1; echo o2 > opq/sub/old2
        echo m > chmod.txt; chmod 0644 chmod.txt; echo o > chown.txt
        echo lowerlinked > lowerfile
        chmod 1777 tmp
        printf 'root:x:0:0:root:/root:/bin/sh\\nalice:x:1234:5678::/home/alice:/bin/sh\\n' > etc/passwd
        printf 'root:x:0:\\nstaff:x:5678:\\n' > etc/group
        """

    static let long1 = String(repeating: "L", count: 70)
    static let long2 = String(repeating: "M", count: 70)

    static let changeScript = """
        echo new > new.txt
        setfattr -n user.color -v blue new.txt
        echo modified >> etc/modify.txt
        rm etc/delete.txt
        rm -rf deldir
        rm -rf opq && mkdir opq && echo fresh > opq/new1
        chmod 0600 chmod.txt
        chown 1234:5678 chown.txt
        ln -s etc/keep.txt newlink
        ln -s /nonexistent/abs danglinglink
        echo hl > hl1 && ln hl1 hl2
        ln lowerfile lowerfile-link
        mkfifo fifo
        mknod chr c 1 3 && chmod 0640 chr
        mknod blk b 7 200
        python3 -c "import socket; socket.socket(socket.AF_UNIX).bind('sock')"
        cp /bin/true capbin && setcap cap_net_raw+ep capbin
        mkdir emptydir && setfattr -n user.dirattr -v 1 emptydir
        mkdir -p emptyparent/child
        mkdir -p \(long1)/\(long2) && echo deep > \(long1)/\(long2)/file-with-a-long-name.txt
        dd if=/dev/urandom of=sparse bs=4096 seek=8192 count=4 conv=notrunc status=none && truncate -s 64M sparse
        chmod 4755 usr/bin && echo suid > usr/bin/tool && chmod 4755 usr/bin/tool
        echo junk > tmp/junk
        mkdir -p etc/nodeinit && echo /etc/secret > etc/nodeinit/save-exclude && echo s > etc/secret
        echo nameserver 10.0.0.1 > etc/resolv.conf
        touch -h -d '2024-01-02 03:04:05.123456789' new.txt
        """

    /// Paths of the merged view that must not reach the image: excluded, skipped or unchanged boot placements.
    static let notSaved: Set<String> = ["tmp/junk", "etc/secret", "sock", "etc/hostname"]

    @Test func everyChangeKindSurvivesCaptureAndApply() throws {
        let overlay = try Overlay()
        defer { overlay.cleanUp() }
        try TestSupport.run(["sh", "-ec", "cd \(overlay.lower) && " + Self.lowerScript])
        try overlay.mount()
        try TestSupport.run([
            "sh", "-ec",
            "cd \(overlay.merged) && echo placed > etc/hostname && echo nameserver 10.0.0.9 > etc/resolv.conf",
        ])
        // The init "placed" hostname and resolv.conf at boot; resolv.conf is then rewritten by the user.
        let upperEtc = try FileTree.openAnchor(FilePath(overlay.upper + "/etc"))
        let placed = [
            BootPlacedRecord(path: "/etc/hostname", status: try FileTree.status(in: upperEtc, "hostname")),
            BootPlacedRecord(path: "/etc/resolv.conf", status: try FileTree.status(in: upperEtc, "resolv.conf")),
        ]
        FileTree.closeQuietly(upperEtc)
        try TestSupport.run(["sh", "-ec", "sleep 0.01; cd \(overlay.merged) && " + Self.changeScript])

        let (summary, layerPath) = try overlay.captureLayer(bootPlaced: placed)

        // The summary.
        #expect(summary.skipped.map(\.path) == ["sock"])
        #expect(summary.unchangedBootPlaced == 1)
        #expect(summary.excluded == 2)  // tmp/junk (default list), etc/secret (image save-exclude)
        #expect(summary.whiteouts.count == 2)
        #expect(summary.opaqueDirectories.count == 1)
        #expect(summary.hardLinks.count == 2)
        #expect(summary.devices.count == 2)
        #expect(summary.fifos.count == 1)
        #expect(summary.changedWhileReading.isEmpty)
        #expect(summary.paths?.contains(.init(path: "/etc/resolv.conf", kind: "file", size: 20)) == true)
        let json = try OverlayCapture.json(summary)
        #expect(json.contains("\"regularFiles\""))

        // (a) Python's tarfile reads every member, with the expected encodings.
        let members = try TestSupport.pythonMembers(layerPath)
        let byName = Dictionary(members.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        #expect(Set(members.map(\.name)).count == members.count, "no duplicate paths")
        #expect(byName["etc/.wh.delete.txt"]?.type == "file")
        #expect(byName["etc/.wh.delete.txt"]?.size == 0)
        #expect(byName[".wh.deldir"] != nil)
        let names = members.map(\.name)
        let opaqueIndex = try #require(names.firstIndex(of: "opq/.wh..wh..opq"))
        #expect(names.firstIndex(of: "opq") == opaqueIndex - 1)
        #expect(try #require(names.firstIndex(of: "opq/new1")) > opaqueIndex)
        #expect(byName["sock"] == nil && byName["tmp/junk"] == nil && byName["etc/secret"] == nil)
        #expect(byName["etc/hostname"] == nil)
        #expect(byName["etc/resolv.conf"]?.type == "file")
        #expect(byName["tmp"]?.type == "dir")
        #expect(byName["new.txt"]?.xattrs == ["user.color": TestSupport.hex(Array("blue".utf8))])
        #expect(byName["new.txt"]?.mtime == "1704164645.123456789")
        #expect(byName["emptydir"]?.xattrs == ["user.dirattr": TestSupport.hex(Array("1".utf8))])
        #expect(byName["capbin"]?.xattrs["security.capability"] != nil)
        #expect(
            members.allSatisfy {
                $0.xattrs.keys.allSatisfy { !$0.hasPrefix("trusted.") && !$0.hasPrefix("user.overlay.") }
            })
        #expect(byName["hl2"]?.type == "hardlink" && byName["hl2"]?.linkname == "hl1")
        #expect(byName["lowerfile-link"]?.type == "hardlink" && byName["lowerfile-link"]?.linkname == "lowerfile")
        #expect(
            byName["chr"].map { ($0.type, $0.devmajor, $0.devminor, $0.mode) } ?? ("", 0, 0, 0) == ("char", 1, 3, 0o640)
        )
        #expect(byName["blk"].map { ($0.type, $0.devmajor, $0.devminor) } ?? ("", 0, 0) == ("block", 7, 200))
        #expect(byName["fifo"]?.type == "fifo")
        #expect(
            byName["chown.txt"].map { ($0.uid, $0.gid, $0.uname, $0.gname) } ?? (0, 0, "", "") == (
                1234, 5678, "alice", "staff"
            ))
        #expect(byName["chmod.txt"]?.mode == 0o600)
        #expect(byName["usr/bin/tool"]?.mode == 0o4755)
        #expect(byName["\(Self.long1)/\(Self.long2)/file-with-a-long-name.txt"]?.type == "file")
        #expect(byName["sparse"]?.size == 64 << 20)
        #expect(byName["danglinglink"]?.linkname == "/nonexistent/abs")
        #expect(byName["emptyparent/child"]?.type == "dir")

        // The expected image: the merged view minus what must not be saved.
        var expected = try TestSupport.tree(overlay.merged)
        for path in Self.notSaved { expected.removeValue(forKey: path) }
        // A lower file linked after copy-up is one inode in the upper, but with index=off the merged view reports
        // the lower origin's st_ino for one name, hiding the identity; the upper (and so the image) has the link.
        expected["lowerfile"]?.links = ["lowerfile-link"]
        expected["lowerfile-link"]?.links = ["lowerfile"]
        #expect(expected["sparse"]?.sha256 == byName["sparse"]?.sha256)

        // (b) Apply to a copy of the lower and compare with the merged view.
        let (applied, image) = try overlay.applyToCopyOfLower(layerPath)
        #expect(applied.whiteouts == 2 && applied.opaqueDirectories == 1)
        Self.compare(try TestSupport.tree(image), expected, label: "apply")

        // (c) umoci: the lower as an OCI image, our layer added verbatim, unpacked again.
        try umociRoundTrip(overlay: overlay, layerPath: layerPath, expected: expected)
    }

    private func umociRoundTrip(overlay: Overlay, layerPath: String, expected: [String: TestSupport.TreeEntry]) throws {
        var unpacked = try TestSupport.tree(try overlay.umociUnpackWithLayer(layerPath))
        var wanted = expected
        // umoci restores mtimes rounded to whole seconds; compare everything else exactly.
        for key in unpacked.keys { unpacked[key]?.mtime_ns = 0 }
        for key in wanted.keys { wanted[key]?.mtime_ns = 0 }
        Self.compare(unpacked, wanted, label: "umoci")
    }

    /// The two trees have the same paths and the same entry at each; `label` names the comparison in messages.
    static func compare<Entry: Equatable>(_ actual: [String: Entry], _ expected: [String: Entry], label: String) {
        #expect(
            Set(actual.keys) == Set(expected.keys),
            "\(label): path sets differ: extra \(Set(actual.keys).subtracting(expected.keys).sorted()), missing \(Set(expected.keys).subtracting(actual.keys).sorted())"
        )
        for (path, want) in expected.sorted(by: { $0.key < $1.key }) {
            guard let got = actual[path] else { continue }
            #expect(got == want, "\(label): \(path) differs: got \(got), want \(want)")
        }
    }
}
