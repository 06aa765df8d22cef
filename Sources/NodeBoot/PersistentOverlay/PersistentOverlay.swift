import BlockDevices
import BootConfig
import NodeSys
import SystemPackage

/// `rd.overlay=<devspec>[:<path>]` / `rd.live.overlay=<devspec>:<path>`: the overlay's upper layer on a local
/// device, so the node's changes survive reboots.
///
/// The device is found with libblkid by scanning /sys/class/block (no udev), waiting up to `rd.timeout`; its file
/// system type is probed, then it is mounted on `deviceMountPoint`. `<path>` is a directory (the upper; `ovlwork`
/// next to it; both created on first boot) or a file-system image file holding `overlayfs/` and `ovlwork/`
/// (dracut's live layout), loop-mounted. The image the upper belongs to is recorded on first use
/// (`ImageIdentity`) and checked at every boot: a different image below applies `nodeinit.overlay.mismatch=`.
/// A device still missing after the wait, or one that will not mount, gives a tmpfs upper with a loud warning,
/// or stops the boot with `nodeinit.overlay.required`.
public struct PersistentOverlay {
    public var plan: DeviceOverlay
    /// The NFS root mounted read-only (the overlay's lower).
    public var lowerDir: String
    /// Where the overlay goes (`/sysroot`).
    public var target: String
    /// Where a tmpfs upper is mounted (readonly mode, fallback).
    public var tmpfsMountPoint: String
    /// Recorded in the identity: the root's server and export path, and `nodeinit.image=`.
    public var server: String
    public var exportPath: String
    public var image: String?
    public var deviceTimeoutSeconds: Int
    public var resolver: DeviceResolver
    /// Loud lines for the console (warnings) and the boot log.
    public var console: (String) -> Void
    /// Loads a kernel module by name before it is needed (the probed file system type, `loop`); the initramfs has
    /// no modprobe for the kernel to call.
    public var loadModule: (String) -> Void = { _ in }

    public init(
        plan: DeviceOverlay, lowerDir: String, target: String, tmpfsMountPoint: String, server: String,
        exportPath: String, image: String?, deviceTimeoutSeconds: Int, resolver: DeviceResolver = DeviceResolver(),
        console: @escaping (String) -> Void
    ) {
        self.plan = plan
        self.lowerDir = lowerDir
        self.target = target
        self.tmpfsMountPoint = tmpfsMountPoint
        self.server = server
        self.exportPath = exportPath
        self.image = image
        self.deviceTimeoutSeconds = deviceTimeoutSeconds
        self.resolver = resolver
        self.console = console
    }

    public enum Mode: Sendable, Equatable {
        /// The persistent upper takes the writes.
        case persistent
        /// `rd.overlay.readonly`: the saved upper is a lower layer; a tmpfs takes the writes.
        case readOnlyStack
        /// A tmpfs upper, for the reason given (device missing, mismatch...); the persistent upper is untouched.
        case tmpfsFallback(reason: String)
    }

    public struct Outcome: Sendable, Equatable {
        public var mode: Mode
        /// The overlay as mounted.
        public var lowerDirs: String
        public var upperDir: String
        public var workDir: String
        /// `/dev/...` of the device (or loop device), nil on fallback before a device was found.
        public var device: String?
        public var fileSystemType: String?
        public var identity: ImageIdentity
        /// True when this boot recorded the identity (first use, or after a reset).
        public var recordedIdentity: Bool
    }

    // MARK: - Mount

    /// Prepares the upper (device, layout, identity, reset) and mounts the overlay on `target`.
    public func mount() throws(PersistentOverlayError) -> Outcome {
        let system: ConfinedTree
        let lower: ConfinedTree
        do {
            system = try ConfinedTree("/")
            lower = try ConfinedTree(lowerDir)
        } catch {
            throw .mountFailed(what: "opening \(lowerDir)", reason: error.description)
        }
        let identity = ImageIdentity(
            server: server, exportPath: exportPath, image: image ?? "-", stamp: ImageIdentity.stamp(of: lower))
        var outcome: Outcome
        do {
            outcome = try preparePersistent(system: system, identity: identity)
        } catch let failure as Fallback {
            if plan.required, failure.honoursRequired {
                throw .deviceUnavailable(spec: plan.device.description, reason: failure.reason)
            }
            if let fatal = failure.fatal { throw fatal }
            console("WARNING: persistent overlay \(plan.device): \(failure.reason); using a tmpfs upper: CHANGES WILL BE LOST AT REBOOT")
            outcome = try tmpfsOutcome(system: system, reason: failure.reason, identity: identity, device: failure.device)
        } catch let error as PersistentOverlayError {
            throw error
        } catch {
            throw .mountFailed(what: "preparing the upper", reason: "\(error)")
        }
        let data = "lowerdir=\(outcome.lowerDirs),upperdir=\(outcome.upperDir),workdir=\(outcome.workDir)"
            + (plan.mounts.options.isEmpty ? "" : "," + plan.mounts.options)
        do {
            FileTree.closeQuietly(try system.ensureDirectory(target))
            try system.mount(source: "overlay", fileSystemType: "overlay", data: data, at: target)
        } catch {
            throw .mountFailed(what: "mounting the overlay on \(target) (\(data))", reason: error.description)
        }
        console("overlay on \(target): \(outcome.mode) upper \(outcome.upperDir) lower \(outcome.lowerDirs)")
        return outcome
    }

    /// Why the persistent upper cannot be used this boot.
    struct Fallback: Swift.Error {
        var reason: String
        var device: String?
        /// True for "device missing / will not mount" (where `nodeinit.overlay.required` stops the boot).
        var honoursRequired: Bool
        /// Set for the mismatch policy `fail`.
        var fatal: PersistentOverlayError?
    }

    func preparePersistent(system: ConfinedTree, identity: ImageIdentity) throws -> Outcome {
        let deviceMount = LocalDeviceMount(
            device: plan.device, role: "overlay device", timeoutSeconds: deviceTimeoutSeconds, resolver: resolver,
            loadModule: loadModule, console: console)
        let found: LocalDeviceMount.Mounted
        do {
            found = try deviceMount.mount(in: system, at: plan.deviceMountPoint)
        } catch {
            throw Fallback(reason: error.reason, device: error.devicePath, honoursRequired: true)
        }

        // Layout: default (/overlay + /ovlwork), a directory path (upper + sibling ovlwork), or an image file.
        var upper: String
        var work: String
        var device = found.devicePath
        var fsType = found.fileSystemType
        let relative = plan.path.map { ($0.hasPrefix("/") ? $0 : "/" + $0) } ?? ""
        let deviceTree = try ConfinedTree(plan.deviceMountPoint)
        if !relative.isEmpty, let status = try deviceTree.status(relative), status.kind == .regular {
            let imageMount = plan.deviceMountPoint + "-image"
            let (loop, loopType) = try attachImage(deviceTree, relative, system: system, at: imageMount)
            device = loop
            fsType = loopType
            upper = imageMount + "/overlayfs"
            work = imageMount + "/ovlwork"
        } else if !relative.isEmpty {
            var clean = relative
            while clean.hasSuffix("/") && clean.count > 1 { clean.removeLast() }
            upper = plan.deviceMountPoint + clean
            let parent = clean.lastIndex(of: "/").map { String(clean[..<$0]) } ?? ""
            work = plan.deviceMountPoint + parent + "/ovlwork"
        } else {
            upper = plan.deviceMountPoint + "/overlay"
            work = plan.deviceMountPoint + "/ovlwork"
        }
        let upperExisted = (try system.status(upper)) != nil
        FileTree.closeQuietly(try system.ensureDirectory(upper))
        FileTree.closeQuietly(try system.ensureDirectory(work))
        let identityPath = upper + ".nodeinit-identity"
        var recorded = false

        if plan.reset {
            try system.emptyDirectory(upper)
            try system.emptyDirectory(work)
            console("rd.overlay.reset: emptied the persistent upper \(upper) on \(device)")
            try system.writeFile(identityPath, Array(identity.fileText.utf8))
            recorded = true
        } else if let text = try? system.readFile(identityPath, limit: 65536),
                  let saved = ImageIdentity(fileText: String(decoding: text, as: UTF8.self)) {
            if saved != identity {
                switch plan.mismatchPolicy {
                case .tmpfs:
                    throw Fallback(
                        reason: "the upper on \(device) was written over another image (recorded \(saved), now \(identity)); left untouched (nodeinit.overlay.mismatch=tmpfs)",
                        device: device, honoursRequired: false)
                case .fail:
                    throw Fallback(
                        reason: "image mismatch", device: device, honoursRequired: false,
                        fatal: .imageMismatch(recorded: saved.description, current: identity.description))
                case .reset:
                    try system.emptyDirectory(upper)
                    try system.emptyDirectory(work)
                    console("WARNING: the persistent upper on \(device) was written over another image (recorded \(saved)); emptied it (nodeinit.overlay.mismatch=reset)")
                    try system.writeFile(identityPath, Array(identity.fileText.utf8))
                    recorded = true
                }
            }
        } else {
            if upperExisted, let fd = try? system.openDirectory(upper) {
                let names = (try? FileTree.list(fd, path: upper))?.names ?? []
                FileTree.closeQuietly(fd)
                if !names.isEmpty {
                    console("WARNING: the persistent upper \(upper) on \(device) has no recorded image; adopting it for \(identity)")
                }
            }
            try system.writeFile(identityPath, Array(identity.fileText.utf8))
            recorded = true
            console("persistent overlay: first use of \(upper) on \(device); recorded \(identity)")
        }

        if plan.readOnly {
            let tmpfs = try mountTmpfs(system: system)
            return Outcome(
                mode: .readOnlyStack, lowerDirs: upper + ":" + lowerDir, upperDir: tmpfs.upper, workDir: tmpfs.work,
                device: device, fileSystemType: fsType, identity: identity, recordedIdentity: recorded)
        }
        return Outcome(
            mode: .persistent, lowerDirs: lowerDir, upperDir: upper, workDir: work, device: device,
            fileSystemType: fsType, identity: identity, recordedIdentity: recorded)
    }

    /// Loop-mounts the image file `relative` of the device on `mountPoint`; returns the loop device and its type.
    func attachImage(_ deviceTree: ConfinedTree, _ relative: String, system: ConfinedTree, at mountPoint: String) throws -> (String, String) {
        loadModule("loop")
        // An image file that cannot be opened or attached is a device that will not mount: tmpfs with a warning,
        // or the failure action with nodeinit.overlay.required (not an unconditional boot failure).
        let backing: FileDescriptor
        do { backing = try deviceTree.openFileForWriting(relative) } catch {
            throw Fallback(reason: "opening the overlay image \(relative) for writing: \(error)", device: plan.deviceMountPoint, honoursRequired: true)
        }
        defer { FileTree.closeQuietly(backing) }
        let loop: LoopDevice
        do { loop = try LoopDevice.attach(backing, backingName: plan.deviceMountPoint + relative, readOnly: false) } catch {
            throw Fallback(reason: "overlay image \(relative): \(error)", device: plan.deviceMountPoint, honoursRequired: true)
        }
        defer { loop.close() }
        let identity: DeviceIdentity
        do { identity = try BlockDeviceProbe.identify(loop.path) } catch {
            loop.detach()
            throw Fallback(reason: "overlay image \(relative): \(error)", device: loop.path, honoursRequired: true)
        }
        guard let type = identity.fileSystemType else {
            loop.detach()
            throw Fallback(reason: "no file system in the overlay image \(relative)", device: loop.path, honoursRequired: true)
        }
        loadModule(type)
        do {
            FileTree.closeQuietly(try system.ensureDirectory(mountPoint))
            try system.mount(source: loop.path, fileSystemType: type, data: nil, at: mountPoint)
        } catch {
            loop.detach()
            throw Fallback(reason: "mounting the overlay image \(relative) (\(loop.path), \(type)): \(error)", device: loop.path, honoursRequired: true)
        }
        console("overlay image \(relative) attached to \(loop.path) (\(type)), mounted on \(mountPoint)")
        return (loop.path, type)
    }

    func mountTmpfs(system: ConfinedTree) throws -> (upper: String, work: String) {
        FileTree.closeQuietly(try system.ensureDirectory(tmpfsMountPoint))
        if !system.isMountPoint(tmpfsMountPoint) {
            try system.mount(source: "tmpfs", fileSystemType: "tmpfs", data: "mode=0755", at: tmpfsMountPoint)
        }
        FileTree.closeQuietly(try system.ensureDirectory(tmpfsMountPoint + "/upper"))
        FileTree.closeQuietly(try system.ensureDirectory(tmpfsMountPoint + "/work"))
        return (tmpfsMountPoint + "/upper", tmpfsMountPoint + "/work")
    }

    func tmpfsOutcome(system: ConfinedTree, reason: String, identity: ImageIdentity, device: String?) throws(PersistentOverlayError) -> Outcome {
        do {
            let tmpfs = try mountTmpfs(system: system)
            return Outcome(
                mode: .tmpfsFallback(reason: reason), lowerDirs: lowerDir, upperDir: tmpfs.upper, workDir: tmpfs.work,
                device: device, fileSystemType: nil, identity: identity, recordedIdentity: false)
        } catch {
            throw .mountFailed(what: "mounting the fallback tmpfs on \(tmpfsMountPoint)", reason: "\(error)")
        }
    }
}
