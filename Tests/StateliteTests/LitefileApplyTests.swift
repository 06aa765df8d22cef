import BootConfig
import Foundation
import Glibc
import NodeSys
import OverlayCapture
import Testing

@testable import NodeBoot

/// A node's new root built on the host: the image (lower) with two in-image litetree sources, an overlay with a
/// tmpfs upper on `root`, and statelite applied on it with the tables below.
final class StateliteNode {
    let scratch: ScratchDirectory
    var lower: String { scratch.sub("lower") }
    var root: String { scratch.sub("root") }
    var upper: String { scratch.sub("ovl/upper") }
    var outside: String { scratch.sub("outside") }
    var manifest: String { scratch.sub("placed.json") }

    static let litefile = """
        #image,file,options,comments,disable
        "ALL","/etc/motd","ro",,
        "ALL","/etc/issue","link,ro",,
        "ALL","/etc/hosts","con",,
        "ALL","/etc/profile","link,con",,
        "ALL","/etc/fstab",,,
        "ALL","/etc/adjtime","tmpfs,rw",,
        "ALL","/etc/ssh/","tmpfs",,
        "ALL","/etc/ssh/sshd_config","persistent",,
        "ALL","/etc/ssh/moduli","ro",,
        "ALL","/var/lib/state/","persistent",,
        "ALL","/root/.bashrc","link,persistent",,
        "ALL","/var/log/","rw",,
        "ALL","/opt/data","bind,persistent",,
        "ALL","/etc/resolv.conf","bind",,
        "ALL","/var/local/","localdisk",,
        "ALL","/etc/evil","tmpfs",,
        "ALL","/etc/new-file","tmpfs",,
        """
    static let litetree = """
        #priority,image,directory,mntopts,comments,disable
        "1","ALL","/srv/tree1",,,
        "2","ALL","/srv/tree2",,,
        """

    init(_ name: String) throws {
        scratch = try ScratchDirectory(name)
        let image = lower
        // The image.
        try write(image + "/etc/motd", "image motd\n")
        try write(image + "/etc/issue", "image issue\n")
        try write(image + "/etc/hosts", "127.0.0.1 image\n")
        try write(image + "/etc/profile", "image profile\n")
        try write(image + "/etc/fstab", "image fstab\n")
        try write(image + "/etc/adjtime", "image adjtime\n")
        try write(image + "/etc/resolv.conf", "nameserver 10.0.0.1\n")
        try write(image + "/etc/ssh/ssh_config", "image ssh_config\n")
        try write(image + "/etc/ssh/sshd_config", "image sshd_config\n")
        try write(image + "/etc/ssh/moduli", "image moduli\n")
        try write(image + "/var/lib/state/db", "image db\n")
        try write(image + "/root/.bashrc", "image bashrc\n")
        try write(image + "/var/log/messages", "image log\n")
        try write(image + "/var/local/cache", "image cache\n")
        try write(image + "/etc/nodeinit/litefile.csv", Self.litefile)
        try write(image + "/etc/nodeinit/litetree.csv", Self.litetree)
        // Hostile: /etc/evil points out of the root, at a sentinel directory that must stay empty.
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: image + "/etc/evil", withDestinationPath: outside + "/evil")
        // Two litetree sources inside the image (priority 1, then 2).
        try write(image + "/srv/tree1/etc/motd", "tree1 motd\n")
        try write(image + "/srv/tree1/etc/issue", "tree1 issue\n")
        try write(image + "/srv/tree1/etc/hosts", "10.0.0.1 tree1\n")
        try write(image + "/srv/tree1/etc/ssh/.keep", "tree1 dotfile\n")
        try write(image + "/srv/tree1/etc/ssh/ssh_config", "tree1 ssh_config\n")
        try write(image + "/srv/tree1/etc/ssh/moduli", "tree1 moduli\n")
        try write(image + "/srv/tree2/etc/hosts", "10.0.0.2 tree2\n")
        try write(image + "/srv/tree2/etc/fstab", "tree2 fstab\n")
        try write(image + "/srv/tree2/etc/ssh/tree2-only", "tree2 only\n")
        try write(image + "/srv/tree2/etc/ssh/sshd_config", "tree2 sshd_config\n")
        try FileManager.default.createDirectory(
            atPath: image + "/srv/tree2/var/lib/state", withIntermediateDirectories: true)
        // The overlay: tmpfs upper, image as lower.
        try FileManager.default.createDirectory(atPath: scratch.sub("ovl"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        guard mount("tmpfs", scratch.sub("ovl"), type: "tmpfs", data: "mode=0755") else { throw POSIXError(.EPERM) }
        try FileManager.default.createDirectory(atPath: upper, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: scratch.sub("ovl/work"), withIntermediateDirectories: true)
        guard
            mount(
                "overlay", root, type: "overlay",
                data:
                    "lowerdir=\(image),upperdir=\(upper),workdir=\(scratch.sub("ovl/work")),redirect_dir=off,metacopy=off,index=off,xino=off"
            )
        else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    }

    /// Plans from the image's tables and applies statelite; returns the setup (log lines) and the summary.
    func boot(commandLine: String = "root=nfs:10.0.0.9:/images/node NODE=n1") throws -> (
        StateliteSetup, StateliteSummary
    ) {
        var consoleLines: [String] = []
        let log = StateliteLog { consoleLines.append($1) }
        let setup = StateliteSetup(
            environment: .init(
                newRoot: root, imageRoot: lower, upperDir: upper, resolveHost: { $0 }, statemntRounds: 1,
                litetreeRounds: 1, retryPauseMilliseconds: 10, placedManifestPath: manifest),
            log: log)
        let line = KernelCommandLine(bytes: Array(commandLine.utf8))
        let bootPlan = try BootPlanner.plan(BootInputs(commandLine: line))
        guard let plan = try setup.plan(commandLine: line, bootPlan: bootPlan, hostName: nil) else {
            throw POSIXError(.ENOENT)
        }
        let summary = try setup.apply(plan)
        return (setup, summary)
    }
}

@Suite(
    "Statelite litefile application on real mounts",
    .enabled(if: runningAsRoot, "needs root for overlay and bind mounts"))
struct LitefileApplyTests {
    @Test func everyOptionNestedPairTwoTreesConAndHostileSymlink() throws {
        let node = try StateliteNode("apply")
        defer { node.scratch.cleanup() }
        let (setup, summary) = try node.boot()
        let root = node.root
        let logText = read(root + "/.statelite/statelite.log") ?? ""
        if ProcessInfo.processInfo.environment["STATELITE_TEST_SHOW_LOG"] != nil { print(logText) }

        // ro: the first tree's file, bound read-only (live: the source file itself).
        #expect(read(root + "/etc/motd") == "tree1 motd\n")
        #expect(isReadOnlyMount(root + "/etc/motd"))
        try "tree1 motd v2\n".write(toFile: node.lower + "/srv/tree1/etc/motd", atomically: false, encoding: .utf8)
        #expect(read(root + "/etc/motd") == "tree1 motd v2\n")
        // link,ro: /etc/issue -> /.statelite/tmpfs/etc/issue -> the tree's copy as the node sees it.
        #expect(symlinkTarget(root + "/etc/issue") == "/.statelite/tmpfs/etc/issue")
        #expect(symlinkTarget(root + "/.statelite/tmpfs/etc/issue") == "/srv/tree1/etc/issue")
        // con: both trees, priority order, bound and writable.
        #expect(read(root + "/etc/hosts") == "10.0.0.1 tree1\n10.0.0.2 tree2\n")
        #expect(!isReadOnlyMount(root + "/etc/hosts"))
        // link,con with no tree match: the image's own file.
        #expect(symlinkTarget(root + "/etc/profile") == "/.statelite/tmpfs/etc/profile")
        #expect(read(root + "/.statelite/tmpfs/etc/profile") == "image profile\n")
        // blank (link): tree2 has it, tree1 does not.
        #expect(symlinkTarget(root + "/etc/fstab") == "/.statelite/tmpfs/etc/fstab")
        #expect(read(root + "/.statelite/tmpfs/etc/fstab") == "tree2 fstab\n")
        // tmpfs,rw = link: the image's copy.
        #expect(read(root + "/.statelite/tmpfs/etc/adjtime") == "image adjtime\n")
        // tmpfs directory: tree1's copy whole (first match wins, no merge with tree2), dotfile kept, writable.
        let ssh = Set(try FileManager.default.contentsOfDirectory(atPath: root + "/etc/ssh"))
        #expect(ssh == [".keep", "ssh_config", "moduli", "sshd_config"])
        #expect(read(root + "/etc/ssh/.keep") == "tree1 dotfile\n")
        try "changed\n".write(toFile: root + "/etc/ssh/ssh_config", atomically: false, encoding: .utf8)
        #expect(read(root + "/.statelite/tmpfs/etc/ssh/ssh_config") == "changed\n")
        #expect(!FileManager.default.fileExists(atPath: node.upper + "/etc/ssh/ssh_config"))
        // Nested persistent child inside the tmpfs parent: tree2's copy, bound from the persistent store.
        #expect(read(root + "/etc/ssh/sshd_config") == "tree2 sshd_config\n")
        try "edited\n".write(toFile: root + "/etc/ssh/sshd_config", atomically: false, encoding: .utf8)
        #expect(read(root + "/.statelite/persistent/etc/ssh/sshd_config") == "edited\n")
        // Nested ro child: tree1's moduli, read-only inside the writable parent.
        #expect(read(root + "/etc/ssh/moduli") == "tree1 moduli\n")
        #expect(isReadOnlyMount(root + "/etc/ssh/moduli"))
        // persistent directory: tree2's copy is empty -> counts as not found -> the image's.
        #expect(read(root + "/var/lib/state/db") == "image db\n")
        // link,persistent.
        #expect(symlinkTarget(root + "/root/.bashrc") == "/.statelite/tmpfs/root/.bashrc")
        #expect(symlinkTarget(root + "/.statelite/tmpfs/root/.bashrc") == "/.statelite/persistent/root/.bashrc")
        #expect(read(root + "/.statelite/persistent/root/.bashrc") == "image bashrc\n")
        // rw (tmpfs) directory.
        #expect(read(root + "/var/log/messages") == "image log\n")
        // bind,persistent for a path missing everywhere: created empty, bound, writable.
        #expect(read(root + "/opt/data") == "")
        // bind (= tmpfs) file.
        #expect(read(root + "/etc/resolv.conf") == "nameserver 10.0.0.1\n")
        // localdisk without a local disk: tmpfs behaviour, with a warning.
        #expect(read(root + "/var/local/cache") == "image cache\n")
        #expect(logText.contains("no local disk mounted on /.sllocal/localmnt"))
        // tmpfs file absent from the image: created in the overlay and recorded as placed.
        #expect(read(root + "/etc/new-file") == "")
        // Hostile symlink: refused, nothing outside.
        #expect(try FileManager.default.contentsOfDirectory(atPath: node.outside).isEmpty)
        #expect(logText.contains("REFUSED /etc/evil"))
        #expect(symlinkTarget(root + "/etc/evil") == node.outside + "/evil")
        // No STATEMNT: said loudly, and the marker file.
        #expect(logText.contains("WARNING persistent litefile entries but no STATEMNT"))
        #expect(FileManager.default.fileExists(atPath: root + "/.statelite/persistent/NOT-PERSISTENT"))
        // mtab.
        #expect(symlinkTarget(root + "/.statelite/tmpfs/etc/mtab") == "/proc/mounts")
        // statelite.log: timestamped lines with from/to.
        let lines = logText.split(separator: "\n")
        #expect(lines.count >= 20)
        #expect(lines.allSatisfy { $0.count > 24 && $0.dropFirst(4).first == "-" && $0.dropFirst(23).first == "Z" })
        #expect(logText.contains("bind-mounted read-only from /srv/tree1/etc/motd to /etc/motd"))
        #expect(logText.contains("appended from /srv/tree2/etc/hosts to /.statelite/tmpfs/etc/hosts"))
        #expect(summary.failed == 1)  // /etc/evil
        #expect(setup.log.lines.count == lines.count)
        // Boot-placed manifest: the symlinks and mount points put into the upper.
        let manifest = try JSONDecoder().decode(
            BootPlacedManifest.self, from: Data(contentsOf: URL(fileURLWithPath: node.manifest)))
        let placed = Set(manifest.entries.map(\.path))
        #expect(
            placed.isSuperset(of: [
                "/etc/issue", "/etc/profile", "/etc/fstab", "/root/.bashrc", "/etc/new-file", "/opt/data",
                "/.statelite",
            ]))
        #expect(!placed.contains("/etc/hosts"))
        #expect(summary.placedRecords == manifest.entries.count)
    }

    @Test func persistentCopyIsSeededOnceAndKept() throws {
        let node = try StateliteNode("persist")
        defer { node.scratch.cleanup() }
        // A persistent store that survives: a directory outside mounted on /.statelite/persistent after the tmpfs.
        let store = node.scratch.sub("store")
        try write(store + "/etc/ssh/sshd_config", "kept from last boot\n")
        let log = StateliteLog()
        let setup = StateliteSetup(
            environment: .init(
                newRoot: node.root, imageRoot: node.lower, upperDir: node.upper, resolveHost: { $0 },
                placedManifestPath: node.manifest), log: log)
        let rootTree = try ConfinedTree(node.root)
        try setup.mountStateliteTmpfs(rootTree)
        #expect(
            mount(store, node.root + "/.statelite/persistent", type: "none", data: nil)
                || Glibc.mount(store, node.root + "/.statelite/persistent", nil, UInt(MS_BIND), nil) == 0)
        let line = KernelCommandLine(bytes: Array("root=nfs:10.0.0.9:/img NODE=n1".utf8))
        let plan = try #require(
            try setup.plan(
                commandLine: line, bootPlan: try BootPlanner.plan(BootInputs(commandLine: line)), hostName: nil))
        let image = try ConfinedTree(node.lower)
        let trees = try ["/srv/tree1", "/srv/tree2"].map {
            LitefileApplier.SourceTree(tree: try rootTree.subtree($0), display: $0)
        }
        let applier = LitefileApplier(
            root: rootTree, image: image, trees: trees, defaults: nil, canChangeImage: true, log: log,
            placed: setup.placed)
        for entry in plan.statelite.entries { _ = applier.apply(entry, in: plan.statelite.entries) }
        #expect(read(node.root + "/etc/ssh/sshd_config") == "kept from last boot\n")
        #expect(read(store + "/var/lib/state/db") == "image db\n")
        #expect(
            log.lines.contains {
                $0.contains("kept the existing persistent copy /.statelite/persistent/etc/ssh/sshd_config")
            })
    }
}

@Suite("Statelite refusals", .enabled(if: runningAsRoot, "needs root for overlay and bind mounts"))
struct StateliteRefusalTests {
    @Test func hostileSymlinkIsRefusedBeforeAnythingIsCopied() throws {
        let node = try StateliteNode("refuse")
        defer { node.scratch.cleanup() }
        _ = try node.boot()
        #expect(!FileManager.default.fileExists(atPath: node.root + "/.statelite/tmpfs/etc/evil"))
        #expect(symlinkTarget(node.root + "/.statelite/tmpfs/etc/evil") == nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: node.outside).isEmpty)
    }
}

@Suite struct StateliteTableSourceTests {
    /// xCAT nodes fetch their litefile from xcatd; without a table in the image the log says xcatd is asked next
    /// (the `fetchXcatdTables` step), and with one, xcatd is not mentioned.
    @Test func xcatServerWithoutALitefileTableIsReported() throws {
        let scratch = try ScratchDirectory("xcat-no-table")
        defer { scratch.cleanup() }
        try write(scratch.sub("image/etc/hostname"), "n1\n")
        let log = StateliteLog()
        let setup = StateliteSetup(
            environment: .init(
                newRoot: scratch.sub("image"), imageRoot: scratch.sub("image"), upperDir: nil, resolveHost: { $0 }),
            log: log)
        let line = KernelCommandLine("NFSROOT=10.0.0.9:/install/netboot/img XCAT=10.0.0.1:3001 NODE=n1")
        let plan = try setup.plan(
            commandLine: line, bootPlan: try BootPlanner.plan(BootInputs(commandLine: line)), hostName: nil)
        #expect(plan?.statelite.entries.isEmpty == true)
        #expect(
            log.lines.contains {
                $0.contains("no litefile table on the command line or in the image: asking xcatd at 10.0.0.1:3001")
            })

        // With the table in the image, nothing to report.
        try write(
            scratch.sub("image/etc/nodeinit/litefile.csv"),
            "#image,file,options,comments,disable\n\"ALL\",\"/etc/motd\",\"tmpfs\",,\n")
        let quiet = StateliteLog()
        let withTable = StateliteSetup(
            environment: .init(
                newRoot: scratch.sub("image"), imageRoot: scratch.sub("image"), upperDir: nil, resolveHost: { $0 }),
            log: quiet)
        let planned = try withTable.plan(
            commandLine: line, bootPlan: try BootPlanner.plan(BootInputs(commandLine: line)), hostName: nil)
        #expect(planned?.statelite.entries.map(\.path).contains("/etc/motd") == true)
        #expect(!quiet.lines.contains { $0.contains("xcatd") })
    }
}
