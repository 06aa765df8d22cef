import BlockDevices
import BootConfig
import Foundation
import Glibc
import Logging
import NodeSys
import RuntimeLayout
import Testing

@testable import NodeBoot

/// An ext4 file system with a unique LABEL on a loop device (losetup), detached at `close()`.
final class LoopDisk {
    let image: String
    let device: String
    let label: String

    init(in scratch: ScratchDirectory, name: String, megabytes: Int = 64) throws {
        image = scratch.sub("\(name).img")
        label = "sl\(UInt32.random(in: 0...UInt32.max) % 100_000_000)"
        FileManager.default.createFile(atPath: image, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: image))
        try handle.truncate(atOffset: UInt64(megabytes) << 20)
        try handle.close()
        let mkfs = try run(["/usr/sbin/mkfs.ext4", "-q", "-F", "-L", label, image])
        guard mkfs.status == 0 else { throw POSIXError(.EIO) }
        let attach = try run(["/usr/sbin/losetup", "--find", "--show", image])
        guard attach.status == 0 else { throw POSIXError(.ENODEV) }
        device = attach.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func close() {
        _ = try? run(["/usr/sbin/losetup", "--detach", device])
    }
}

@Suite(
    "BlockDevices: devspec resolution and probing with libblkid", .enabled(if: runningAsRoot, "needs root for losetup"))
struct BlockDeviceTests {
    @Test func resolvesLabelUUIDAndPathAndProbesType() throws {
        let scratch = try ScratchDirectory("blkid")
        defer { scratch.cleanup() }
        let disk = try LoopDisk(in: scratch, name: "disk")
        defer { disk.close() }
        let resolver = DeviceResolver(pollMilliseconds: 50)
        let byLabel = try resolver.wait(for: .label(disk.label), timeoutSeconds: 5)
        #expect(byLabel.path == disk.device)
        #expect(byLabel.fileSystemType == "ext4")
        let uuid = try #require(byLabel.uuid)
        #expect(try resolver.wait(for: .uuid(uuid.uppercased()), timeoutSeconds: 5).path == disk.device)
        #expect(try resolver.wait(for: .path(disk.device), timeoutSeconds: 5).label == disk.label)
        let start = Date()
        #expect(throws: DeviceResolver.Error.self) {
            _ = try resolver.wait(for: .label(disk.label + "-absent"), timeoutSeconds: 1)
        }
        #expect(Date().timeIntervalSince(start) >= 1.0)
    }
}

/// One node with an NFS-root stand-in (a lower directory) and an overlay device.
final class OverlayNode {
    let scratch: ScratchDirectory
    let disk: LoopDisk
    var lower: String { scratch.sub("lower") }
    var root: String { scratch.sub("root") }
    var deviceMount: String { scratch.sub("device") }
    var consoleLines: [String] = []

    init(_ name: String) throws {
        scratch = try ScratchDirectory(name)
        disk = try LoopDisk(in: scratch, name: "overlay")
        try write(lower + "/etc/os-release", "ID=test\n")
        try write(lower + "/usr/bin/tool", "tool v1\n")
    }

    func overlay(_ extra: String = "", path: String = ":/ovl", timeout: Int = 5) throws -> PersistentOverlay {
        let line = KernelCommandLine(
            bytes: Array("root=nfs:10.0.0.9:/images/a rd.overlay=LABEL=\(disk.label)\(path) \(extra)".utf8))
        let plan = try BootPlanner.plan(BootInputs(commandLine: line))
        guard case .device(var device) = plan.overlay else { throw POSIXError(.EINVAL) }
        device.deviceMountPoint = deviceMount
        return PersistentOverlay(
            plan: device, lowerDir: lower, server: "10.0.0.9", exportPath: "/images/a", image: plan.image,
            deviceTimeoutSeconds: timeout, resolver: DeviceResolver(pollMilliseconds: 50)
        ) { [weak self] in self?.consoleLines.append($1) }
    }

    /// What the boot's overlay steps make of `overlay`: its plan's device, tmpfs and overlay steps, each through its
    /// executor, on this node's scratch directories (the tmpfs under `run/overlay`, the overlay on `root`).
    func mount(_ overlay: PersistentOverlay) throws(BootFailure) -> OverlayOutcome {
        let line = KernelCommandLine("root=nfs:10.0.0.9:/images/a")
        guard var plan = try? BootPlanner.plan(BootInputs(commandLine: line)) else {
            throw BootFailure(phase: .commandLine, action: "planning", error: "no plan")
        }
        var device = overlay.plan
        device.mounts.target = root
        plan.overlay = .device(device)
        plan.root.mountPoint = lower
        plan.steps = [.mountOverlayDevice] + (device.readOnly ? [.mountOverlayTmpfs] : []) + [.mountOverlay]
        let storage = GivenOverlayDevice(overlay)
        let walk = BootSequence(
            services: BootServices(
                network: NoNetwork(), kernel: LiveKernel(reapsChildren: false), storage: storage,
                logger: Logger(label: "test"),
                layout: RuntimeLayout(directory: scratch.sub("run"))))
        var context = BootContext(commandLine: line, plan: plan)
        try walk.walk(&context)
        guard let layers = context.overlay, let prepared = storage.prepared else {
            throw BootFailure(phase: .overlay, action: "mounting", error: "no overlay")
        }
        return OverlayOutcome(
            mode: prepared.mode, upperDir: layers.writable?.upperDir ?? "", device: prepared.device,
            fileSystemType: prepared.fileSystemType, recordedIdentity: prepared.recordedIdentity)
    }

    /// Unmounts the overlay, the device and any tmpfs (what a reboot does).
    func reboot() {
        for _ in 0..<4 {
            let points = scratch.mountsBelow()
            if points.isEmpty { break }
            for point in points { _ = umount2(point, Int32(MNT_DETACH)) }
        }
        consoleLines = []
    }

    func close() {
        reboot()
        disk.close()
        scratch.cleanup()
    }
}

struct OverlayOutcome {
    var mode: OverlayLayers.Mode
    var upperDir: String
    var device: String?
    var fileSystemType: String?
    var recordedIdentity: Bool
}

/// Prepares the device with the test's own `PersistentOverlay` (its short device poll and console capture).
final class GivenOverlayDevice: BootStorage {
    let overlay: PersistentOverlay
    var prepared: PersistentOverlay.Prepared?
    init(_ overlay: PersistentOverlay) { self.overlay = overlay }

    func loadTables(
        _ locations: TableLocations, imageRoot: String, resolveHost: @escaping (String) -> String?, log: StateliteLog
    ) throws(StateliteError) -> StateliteTables.Loaded { StateliteTables.Loaded() }

    func openStatelite(_ environment: StateliteSetup.Environment, log: StateliteLog) -> any StateliteOperations {
        StateliteSetup(environment: environment, log: log)
    }

    func fetchXcatdTables(
        _ plan: XcatdPlan, address: IPAddress, imageRoot: String, litefile: Bool, litetree: Bool, seed: UInt64,
        log: StateliteLog
    ) throws(StateliteError) -> XcatdTables.Fetched {
        throw .xcatd(endpoint: plan.endpoint, problem: "not in this test", attempts: [])
    }

    func prepareOverlayDevice(_ planned: PersistentOverlay) throws(PersistentOverlayError) -> PersistentOverlay.Prepared
    {
        var overlay = self.overlay
        overlay.loadModule = planned.loadModule
        let result = try overlay.prepare()
        prepared = result
        return result
    }
}

@Suite(
    "Persistent overlay on a loop-mounted ext4", .enabled(if: runningAsRoot, "needs root for loop devices and mounts"),
    .serialized)
struct PersistentOverlayTests {
    @Test func firstUseRebootMismatchResetReadonlyAndFail() throws {
        let node = try OverlayNode("povl")
        defer { node.close() }

        // First boot: identity recorded, writes land on the device.
        var outcome = try node.mount(node.overlay())
        #expect(outcome.mode == .persistent)
        #expect(outcome.recordedIdentity)
        #expect(outcome.fileSystemType == "ext4")
        try write(node.root + "/etc/node-change", "kept\n")
        #expect(read(node.deviceMount + "/ovl/etc/node-change") == "kept\n")
        #expect(read(node.deviceMount + "/ovl.nodeinit-identity")?.contains("stamp=") == true)
        node.reboot()

        // Second boot, same image: the change is there.
        outcome = try node.mount(node.overlay())
        #expect(outcome.mode == .persistent)
        #expect(!outcome.recordedIdentity)
        #expect(read(node.root + "/etc/node-change") == "kept\n")
        node.reboot()

        // readonly: the saved upper is visible, new writes go to tmpfs.
        outcome = try node.mount(node.overlay("rd.overlay.readonly"))
        #expect(outcome.mode == .readOnlyStack)
        #expect(read(node.root + "/etc/node-change") == "kept\n")
        try write(node.root + "/etc/volatile", "gone\n")
        #expect(!FileManager.default.fileExists(atPath: node.deviceMount + "/ovl/etc/volatile"))
        node.reboot()

        // The image changes below: default policy tmpfs leaves the upper untouched.
        try FileManager.default.createDirectory(atPath: node.lower + "/newdir", withIntermediateDirectories: true)
        outcome = try node.mount(node.overlay())
        guard case .tmpfsFallback(let reason) = outcome.mode else { Issue.record("expected a tmpfs fallback"); return }
        #expect(reason.contains("another image"))
        #expect(read(node.root + "/etc/node-change") == nil)
        #expect(node.consoleLines.contains { $0.contains("WARNING") && $0.contains("LOST AT REBOOT") })
        node.reboot()
        node.reboot()
        // fail: the boot stops.
        #expect(throws: BootFailure.self) { _ = try node.mount(node.overlay("nodeinit.overlay.mismatch=fail")) }
        node.reboot()
        // reset: the old upper is emptied and the new image recorded.
        outcome = try node.mount(node.overlay("nodeinit.overlay.mismatch=reset"))
        #expect(outcome.mode == .persistent)
        #expect(outcome.recordedIdentity)
        #expect(read(node.root + "/etc/node-change") == nil)
        try write(node.root + "/etc/after-reset", "new\n")
        node.reboot()
        // The new identity matches now.
        outcome = try node.mount(node.overlay())
        #expect(outcome.mode == .persistent)
        #expect(read(node.root + "/etc/after-reset") == "new\n")
        node.reboot()
        // rd.overlay.reset empties it on request.
        outcome = try node.mount(node.overlay("rd.overlay.reset"))
        #expect(outcome.mode == .persistent)
        #expect(read(node.root + "/etc/after-reset") == nil)
        #expect(read(node.root + "/usr/bin/tool") == "tool v1\n")
    }

    @Test func absentDeviceFallsBackOrFailsWhenRequired() throws {
        let node = try OverlayNode("povl-absent")
        defer { node.close() }
        let missing = try node.overlay(path: "-absent:/ovl", timeout: 1)
        let outcome = try node.mount(missing)
        guard case .tmpfsFallback(let reason) = outcome.mode else { Issue.record("expected a tmpfs fallback"); return }
        #expect(reason.contains("no block device matches"))
        try write(node.root + "/etc/x", "x\n")
        #expect(read(node.scratch.sub("run/overlay/upper/etc/x")) == "x\n")
        node.reboot()
        #expect(throws: BootFailure.self) {
            _ = try node.mount(node.overlay("nodeinit.overlay.required", path: "-absent:/ovl", timeout: 1))
        }
    }

    @Test func imageFileOnTheDeviceIsLoopMounted() throws {
        let node = try OverlayNode("povl-image")
        defer { node.close() }
        // Put an ext4 image file on the device first.
        try FileManager.default.createDirectory(atPath: node.deviceMount, withIntermediateDirectories: true)
        #expect(mount(node.disk.device, node.deviceMount, type: "ext4", data: nil))
        let inner = node.deviceMount + "/overlay.img"
        FileManager.default.createFile(atPath: inner, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: inner))
        try handle.truncate(atOffset: 16 << 20)
        try handle.close()
        #expect(try run(["/usr/sbin/mkfs.ext4", "-q", "-F", inner]).status == 0)
        node.reboot()
        let outcome = try node.mount(node.overlay(path: ":/overlay.img"))
        #expect(outcome.mode == .persistent)
        #expect(outcome.device?.hasPrefix("/dev/loop") == true)
        #expect(outcome.upperDir.hasSuffix("-image/overlayfs"))
        try write(node.root + "/etc/in-image", "yes\n")
        #expect(read(node.deviceMount + "-image/overlayfs/etc/in-image") == "yes\n")
    }
}
