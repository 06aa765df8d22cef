import BlockDevices
import BootConfig
import Logging
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
    /// Recorded in the identity: the root's server and export path, and `nodeinit.image=`.
    public var server: String
    public var exportPath: String
    public var image: String?
    public var deviceTimeoutSeconds: Int
    public var resolver: DeviceResolver
    /// Lines for the console and the boot log, with their level.
    public var console: (Logger.Level, String) -> Void
    /// Loads a kernel module by name before it is needed (the probed file system type, `loop`); the initramfs has
    /// no modprobe for the kernel to call.
    public var loadModule: (String) -> Void = { _ in }

    public init(
        plan: DeviceOverlay, lowerDir: String, server: String, exportPath: String, image: String?,
        deviceTimeoutSeconds: Int, resolver: DeviceResolver = DeviceResolver(),
        console: @escaping (Logger.Level, String) -> Void
    ) {
        self.plan = plan
        self.lowerDir = lowerDir
        self.server = server
        self.exportPath = exportPath
        self.image = image
        self.deviceTimeoutSeconds = deviceTimeoutSeconds
        self.resolver = resolver
        self.console = console
    }

    /// The upper this boot uses, ready for the overlay mount (after a tmpfs when `upperDir` is nil).
    public struct Prepared: Sendable, Equatable {
        /// `.persistent`, `.readOnlyStack` or `.tmpfsFallback`.
        public var mode: OverlayLayers.Mode
        /// `lowerdir=`: the NFS root, after the saved upper in read-only mode.
        public var lowerDirs: String
        /// The persistent upper and work dirs; nil when a tmpfs takes the writes (read-only mode, fallback).
        public var upperDir: String?
        public var workDir: String?
        /// `/dev/...` of the device (or loop device), nil on fallback before a device was found.
        public var device: String?
        public var fileSystemType: String?
        public var identity: ImageIdentity
        /// True when this boot recorded the identity (first use, or after a reset).
        public var recordedIdentity: Bool
    }

    // MARK: - Prepare

    /// Finds and mounts the device, lays out the upper, checks the image identity and applies reset; a device that
    /// cannot be used gives a tmpfs fallback (or an error with `nodeinit.overlay.required` / mismatch `fail`).
    public func prepare() throws(PersistentOverlayError) -> Prepared {
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
        do {
            return try preparePersistent(system: system, identity: identity)
        } catch let failure as Fallback {
            if plan.required, failure.honoursRequired {
                throw .deviceUnavailable(spec: plan.device.description, reason: failure.reason)
            }
            if let fatal = failure.fatal { throw fatal }
            console(
                .warning,
                "WARNING: persistent overlay \(plan.device): \(failure.reason); using a tmpfs upper: CHANGES WILL BE LOST AT REBOOT"
            )
            return Prepared(
                mode: .tmpfsFallback(reason: failure.reason), lowerDirs: lowerDir, upperDir: nil, workDir: nil,
                device: failure.device, fileSystemType: nil, identity: identity, recordedIdentity: false)
        } catch let error as PersistentOverlayError {
            throw error
        } catch {
            throw .mountFailed(what: "preparing the upper", reason: "\(error)")
        }
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

    /// Where the upper lives on the device, once it is mounted.
    struct Layout {
        var upper: String
        var work: String
        /// `/dev/...` holding the upper: the device, or the loop device of an image file.
        var device: String
        var fileSystemType: String
    }

    func preparePersistent(system: ConfinedTree, identity: ImageIdentity) throws -> Prepared {
        let deviceMount = LocalDeviceMount(
            device: plan.device, role: "overlay device", timeoutSeconds: deviceTimeoutSeconds, resolver: resolver,
            loadModule: loadModule, console: { console(.notice, $0) })
        let found: LocalDeviceMount.Mounted
        do {
            found = try deviceMount.mount(in: system, at: plan.deviceMountPoint)
        } catch {
            throw Fallback(reason: error.reason, device: error.devicePath, honoursRequired: true)
        }
        let layout = try self.layout(on: found, system: system)
        let upperExisted = (try system.status(layout.upper)) != nil
        FileTree.closeQuietly(try system.ensureDirectory(layout.upper))
        FileTree.closeQuietly(try system.ensureDirectory(layout.work))
        let recorded = try checkIdentity(identity, layout: layout, upperExisted: upperExisted, system: system)
        if plan.readOnly {
            return Prepared(
                mode: .readOnlyStack, lowerDirs: layout.upper + ":" + lowerDir, upperDir: nil, workDir: nil,
                device: layout.device, fileSystemType: layout.fileSystemType, identity: identity,
                recordedIdentity: recorded)
        }
        return Prepared(
            mode: .persistent, lowerDirs: lowerDir, upperDir: layout.upper, workDir: layout.work, device: layout.device,
            fileSystemType: layout.fileSystemType, identity: identity, recordedIdentity: recorded)
    }

    /// The default layout (`/overlay` + `/ovlwork`), a directory path (the upper, `ovlwork` beside it), or an image
    /// file holding `overlayfs/` and `ovlwork/`, loop-mounted.
    func layout(on found: LocalDeviceMount.Mounted, system: ConfinedTree) throws -> Layout {
        let relative = plan.path.map { ($0.hasPrefix("/") ? $0 : "/" + $0) } ?? ""
        let deviceTree = try ConfinedTree(plan.deviceMountPoint)
        if !relative.isEmpty, let status = try deviceTree.status(relative), status.kind == .regular {
            // Beside the device mount point (the runtime layout's overlay-device-image on a node).
            let imageMount = plan.deviceMountPoint + "-image"
            let (loop, loopType) = try attachImage(deviceTree, relative, system: system, at: imageMount)
            return Layout(
                upper: imageMount + "/overlayfs", work: imageMount + "/ovlwork", device: loop, fileSystemType: loopType)
        }
        if !relative.isEmpty {
            var clean = relative
            while clean.hasSuffix("/") && clean.count > 1 { clean.removeLast() }
            let parent = clean.lastIndex(of: "/").map { String(clean[..<$0]) } ?? ""
            return Layout(
                upper: plan.deviceMountPoint + clean, work: plan.deviceMountPoint + parent + "/ovlwork",
                device: found.devicePath, fileSystemType: found.fileSystemType)
        }
        return Layout(
            upper: plan.deviceMountPoint + "/overlay", work: plan.deviceMountPoint + "/ovlwork",
            device: found.devicePath, fileSystemType: found.fileSystemType)
    }

    /// Applies `rd.overlay.reset` and the mismatch policy against the identity recorded beside the upper; records
    /// it on first use. Returns true when this boot recorded the identity.
    func checkIdentity(_ identity: ImageIdentity, layout: Layout, upperExisted: Bool, system: ConfinedTree) throws
        -> Bool
    {
        let upper = layout.upper, device = layout.device
        let identityPath = upper + ".nodeinit-identity"
        func emptyAndRecord(_ level: Logger.Level, _ message: String) throws -> Bool {
            try system.emptyDirectory(upper)
            try system.emptyDirectory(layout.work)
            console(level, message)
            try system.writeFile(identityPath, Array(identity.fileText.utf8))
            return true
        }
        if plan.reset {
            return try emptyAndRecord(.notice, "rd.overlay.reset: emptied the persistent upper \(upper) on \(device)")
        }
        if let text = try? system.readFile(identityPath, limit: 65536),
            let saved = ImageIdentity(fileText: String(decoding: text, as: UTF8.self))
        {
            guard saved != identity else { return false }
            switch plan.mismatchPolicy {
            case .tmpfs:
                throw Fallback(
                    reason:
                        "the upper on \(device) was written over another image (recorded \(saved), now \(identity)); left untouched (nodeinit.overlay.mismatch=tmpfs)",
                    device: device, honoursRequired: false)
            case .fail:
                throw Fallback(
                    reason: "image mismatch", device: device, honoursRequired: false,
                    fatal: .imageMismatch(recorded: saved.description, current: identity.description))
            case .reset:
                return try emptyAndRecord(
                    .warning,
                    "WARNING: the persistent upper on \(device) was written over another image (recorded \(saved)); emptied it (nodeinit.overlay.mismatch=reset)"
                )
            }
        }
        if upperExisted, let fd = try? system.openDirectory(upper) {
            let names = (try? FileTree.list(fd, path: upper))?.names ?? []
            FileTree.closeQuietly(fd)
            if !names.isEmpty {
                console(
                    .warning,
                    "WARNING: the persistent upper \(upper) on \(device) has no recorded image; adopting it for \(identity)"
                )
            }
        }
        try system.writeFile(identityPath, Array(identity.fileText.utf8))
        console(.notice, "persistent overlay: first use of \(upper) on \(device); recorded \(identity)")
        return true
    }

    /// Loop-mounts the image file `relative` of the device on `mountPoint`; returns the loop device and its type.
    func attachImage(_ deviceTree: ConfinedTree, _ relative: String, system: ConfinedTree, at mountPoint: String) throws
        -> (String, String)
    {
        loadModule("loop")
        // An image file that cannot be opened or attached is a device that will not mount: tmpfs with a warning,
        // or the failure action with nodeinit.overlay.required (not an unconditional boot failure).
        let backing: FileDescriptor
        do { backing = try deviceTree.openFileForWriting(relative) } catch {
            throw Fallback(
                reason: "opening the overlay image \(relative) for writing: \(error)", device: plan.deviceMountPoint,
                honoursRequired: true)
        }
        defer { FileTree.closeQuietly(backing) }
        let loop: LoopDevice
        do {
            loop = try LoopDevice.attach(backing, backingName: plan.deviceMountPoint + relative, readOnly: false)
        } catch {
            throw Fallback(
                reason: "overlay image \(relative): \(error)", device: plan.deviceMountPoint, honoursRequired: true)
        }
        defer { loop.close() }
        let identity: DeviceIdentity
        do { identity = try BlockDeviceProbe.identify(loop.path) } catch {
            loop.detach()
            throw Fallback(reason: "overlay image \(relative): \(error)", device: loop.path, honoursRequired: true)
        }
        guard let type = identity.fileSystemType else {
            loop.detach()
            throw Fallback(
                reason: "no file system in the overlay image \(relative)", device: loop.path, honoursRequired: true)
        }
        loadModule(type)
        do {
            FileTree.closeQuietly(try system.ensureDirectory(mountPoint))
            try system.mount(source: loop.path, fileSystemType: type, data: nil, at: mountPoint)
        } catch {
            loop.detach()
            throw Fallback(
                reason: "mounting the overlay image \(relative) (\(loop.path), \(type)): \(error)", device: loop.path,
                honoursRequired: true)
        }
        console(.notice, "overlay image \(relative) attached to \(loop.path) (\(type)), mounted on \(mountPoint)")
        return (loop.path, type)
    }
}
