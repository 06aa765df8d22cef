import BlockDevices
import BootConfig
import Foundation
import Glibc
import NodeSys
import OverlayCapture
import Testing

@testable import NodeBoot

/// The file system type and source of the mount at `point`, from /proc/self/mountinfo (the last one stacked there).
func mountInfo(at point: String) -> (fileSystemType: String, source: String)? {
    guard let text = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return nil }
    var found: (String, String)? = nil
    for line in text.split(separator: "\n") {
        let halves = line.components(separatedBy: " - ")
        guard halves.count == 2 else { continue }
        let fields = halves[0].split(separator: " ")
        let tail = halves[1].split(separator: " ")
        guard fields.count > 4, tail.count >= 2 else { continue }
        if String(fields[4]).replacingOccurrences(of: "\\040", with: " ") == point {
            found = (String(tail[0]), String(tail[1]))
        }
    }
    return found
}

func deviceNumber(_ path: String) -> UInt? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    return UInt(info.st_dev)
}

/// `nodeinit.localdisk=<devspec>` on real mounts: an ext4 loop disk found by LABEL, mounted on /.sllocal/localmnt,
/// the /.sllocal/log tmpfs, a localdisk entry bound from it and kept across a "reboot"; a missing device and one
/// without a file system fall back to RAM with warnings.
@Suite(
    "Statelite local disk (nodeinit.localdisk)", .enabled(if: runningAsRoot, "needs root for losetup and mounts"),
    .serialized)
struct LocalDiskApplyTests {
    /// Applies statelite on `node` with `extra` on the command line and a short device wait.
    func boot(_ node: StateliteNode, _ extra: String, timeout: Int = 5) throws -> (
        StateliteSetup, StateliteSummary, [String]
    ) {
        var consoleLines: [String] = []
        let log = StateliteLog { consoleLines.append($1) }
        let setup = StateliteSetup(
            environment: .init(
                newRoot: node.root, imageRoot: node.lower, upperDir: node.upper, resolveHost: { $0 }, statemntRounds: 1,
                litetreeRounds: 1, retryPauseMilliseconds: 10, placedManifestPath: node.manifest,
                deviceTimeoutSeconds: timeout, deviceResolver: DeviceResolver(pollMilliseconds: 50)),
            log: log)
        let line = KernelCommandLine(bytes: Array("root=nfs:10.0.0.9:/images/node NODE=n1 \(extra)".utf8))
        let plan = try #require(
            try setup.plan(
                commandLine: line, bootPlan: try BootPlanner.plan(BootInputs(commandLine: line)), hostName: nil))
        #expect(!plan.warnings.contains { $0.contains("localdisk entries but no local disk") })
        let summary = try setup.apply(plan)
        return (setup, summary, consoleLines)
    }

    /// Detaches every mount of a node (its "shutdown"), leaving the files.
    func shutDown(_ node: StateliteNode) {
        for _ in 0..<4 {
            let points = node.scratch.mountsBelow()
            if points.isEmpty { break }
            for point in points { _ = umount2(point, Int32(MNT_DETACH)) }
        }
    }

    @Test func diskFoundByLabelMountedBoundAndKeptAcrossReboot() throws {
        let diskScratch = try ScratchDirectory("localdisk-disk")
        defer { diskScratch.cleanup() }
        let disk = try LoopDisk(in: diskScratch, name: "local")
        defer { disk.close() }

        let first = try StateliteNode("localdisk1")
        defer { first.scratch.cleanup() }
        let (setup, summary, console) = try boot(first, "nodeinit.localdisk=LABEL=\(disk.label)")
        let root = first.root
        #expect(summary.localDisk)
        #expect(mountInfo(at: root + "/.sllocal/localmnt").map { $0 == ("ext4", disk.device) } == true)
        #expect(mountInfo(at: root + "/.sllocal/log").map { $0 == ("tmpfs", "rw") } == true)
        // The entry: seeded from the image onto the disk and bound over /var/local.
        #expect(read(root + "/var/local/cache") == "image cache\n")
        #expect(read(root + "/.sllocal/localmnt/var/local/cache") == "image cache\n")
        #expect(deviceNumber(root + "/var/local") == deviceNumber(root + "/.sllocal/localmnt"))
        #expect(deviceNumber(root + "/var/local") != deviceNumber(root + "/etc"))
        try "written on boot 1\n".write(toFile: root + "/var/local/cache", atomically: false, encoding: .utf8)
        #expect(read(root + "/.sllocal/localmnt/var/local/cache") == "written on boot 1\n")
        #expect(!FileManager.default.fileExists(atPath: first.upper + "/var/local/cache"))
        // Logged and on the console; no RAM fallback.
        let logText = setup.log.lines.joined(separator: "\n")
        #expect(logText.contains("action mounted tmpfs from rw to /.sllocal/log"))
        #expect(
            logText.contains(
                "action mounted local disk LABEL=\(disk.label) (ext4) read-write from \(disk.device) to /.sllocal/localmnt"
            ))
        #expect(
            logText.contains(
                "action seeded the local-disk copy (first boot for this path) to /.sllocal/localmnt/var/local"))
        #expect(!logText.contains("kept in RAM"))
        #expect(console.contains("statelite: mounted tmpfs from rw to /.sllocal/log"))
        #expect(
            console.contains(
                "statelite: local disk LABEL=\(disk.label) is \(disk.device) (ext4), mounted on /.sllocal/localmnt"))
        // The mount points the init made in the overlay are boot-placed (node save does not list them).
        let manifest = try JSONDecoder().decode(
            BootPlacedManifest.self, from: Data(contentsOf: URL(fileURLWithPath: first.manifest)))
        #expect(Set(manifest.entries.map(\.path)).isSuperset(of: ["/.sllocal", "/.sllocal/log", "/.sllocal/localmnt"]))

        // "Reboot": a fresh overlay over the same image and the same disk keeps the node's copy.
        shutDown(first)
        let second = try StateliteNode("localdisk2")
        defer { second.scratch.cleanup() }
        let (setup2, summary2, _) = try boot(
            second,
            "nodeinit.localdisk=UUID=\(try #require(try DeviceResolver().scan(.label(disk.label)).matches.first?.uuid))"
        )
        #expect(summary2.localDisk)
        #expect(read(second.root + "/var/local/cache") == "written on boot 1\n")
        #expect(
            setup2.log.lines.contains {
                $0.hasSuffix("info kept the existing local-disk copy /.sllocal/localmnt/var/local")
            })
    }

    @Test func missingDeviceFallsBackToRAMLoudly() throws {
        let node = try StateliteNode("localdisk-missing")
        defer { node.scratch.cleanup() }
        let label = "absent\(UInt32.random(in: 0...UInt32.max))"
        let start = Date()
        let (setup, summary, console) = try boot(node, "nodeinit.localdisk=LABEL=\(label)", timeout: 1)
        #expect(Date().timeIntervalSince(start) >= 1.0)
        #expect(!summary.localDisk)
        #expect(mountInfo(at: node.root + "/.sllocal/log").map { $0.fileSystemType == "tmpfs" } == true)
        #expect(mountInfo(at: node.root + "/.sllocal/localmnt") == nil)
        #expect(read(node.root + "/var/local/cache") == "image cache\n")
        let warning =
            "WARNING local disk LABEL=\(label) (nodeinit.localdisk): no block device matches LABEL=\(label) after 1 s"
        #expect(
            setup.log.lines.contains {
                $0.contains(warning) && $0.hasSuffix("localdisk entries are kept in RAM and LOST at reboot")
            })
        #expect(
            setup.log.lines.contains {
                $0.contains(
                    "WARNING /var/local (localdisk): no local disk mounted on /.sllocal/localmnt (nodeinit.localdisk=); kept in RAM like tmpfs, LOST at reboot"
                )
            })
        #expect(
            console.contains {
                $0.hasPrefix(
                    "statelite: WARNING: local disk LABEL=\(label) (nodeinit.localdisk): no block device matches")
            })
    }

    @Test func deviceWithoutFileSystemFallsBackToRAMLoudly() throws {
        let scratch = try ScratchDirectory("localdisk-blank")
        defer { scratch.cleanup() }
        let image = scratch.sub("blank.img")
        FileManager.default.createFile(atPath: image, contents: Data(count: 4 << 20))
        let attach = try run(["/usr/sbin/losetup", "--find", "--show", image])
        try #require(attach.status == 0)
        let device = attach.output.trimmingCharacters(in: .whitespacesAndNewlines)
        defer { _ = try? run(["/usr/sbin/losetup", "--detach", device]) }
        let node = try StateliteNode("localdisk-nofs")
        defer { node.scratch.cleanup() }
        let (setup, summary, _) = try boot(node, "nodeinit.localdisk=\(device)", timeout: 2)
        #expect(!summary.localDisk)
        #expect(
            setup.log.lines.contains {
                $0.contains(
                    "WARNING local disk \(device) (nodeinit.localdisk): no file system recognised on \(device); localdisk entries are kept in RAM and LOST at reboot"
                )
            })
        #expect(read(node.root + "/var/local/cache") == "image cache\n")
    }
}
