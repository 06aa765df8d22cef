import BlockDevices
import BootConfig
import NodeSys

/// Finds the block device a devspec names (libblkid scan of /sys/class/block, no udev, waiting up to `rd.timeout`),
/// probes its file system, loads that file system's module and mounts it read-write. Shared by the persistent
/// overlay (`rd.overlay=<devspec>`) and statelite's local disk (`nodeinit.localdisk=<devspec>`).
struct LocalDeviceMount {
    var device: DeviceSpec
    /// What the device is for, in console lines: `overlay device`, `local disk`.
    var role: String
    var timeoutSeconds: Int
    var resolver: DeviceResolver
    /// Loads a kernel module by name (the probed file system type); the initramfs has no modprobe for the kernel.
    var loadModule: (String) -> Void
    var console: (String) -> Void

    /// The device was not found, carries no file system, or would not mount.
    struct Failure: Swift.Error, CustomStringConvertible {
        var reason: String
        /// `/dev/...` when the device was found.
        var devicePath: String?
        var description: String { reason }
    }

    struct Mounted: Equatable {
        /// `/dev/...`.
        var devicePath: String
        var fileSystemType: String
    }

    static func match(_ spec: DeviceSpec) -> DeviceMatch {
        switch spec {
        case .label(let value): return .label(value)
        case .uuid(let value): return .uuid(value)
        case .partUUID(let value): return .partitionUUID(value)
        case .partLabel(let value): return .partitionLabel(value)
        case .path(let value): return .path(value)
        }
    }

    /// Waits for the device and mounts it on `mountPoint` inside `tree` (created, and each directory made reported
    /// to `created`). `display` is how the mount point is named in the console line.
    func mount(
        in tree: ConfinedTree, at mountPoint: String, display: String? = nil, created: (String) -> Void = { _ in }
    ) throws(Failure) -> Mounted {
        let found: DeviceIdentity
        do {
            found = try resolver.wait(for: Self.match(device), timeoutSeconds: timeoutSeconds) { waited in
                console(
                    "waiting for the \(role) \(device) (\(waited) s of \(timeoutSeconds == 0 ? "unlimited" : "\(timeoutSeconds) s"))"
                )
            }
        } catch {
            throw Failure(reason: error.description)
        }
        guard let type = found.fileSystemType else {
            throw Failure(reason: "no file system recognised on \(found.path)", devicePath: found.path)
        }
        loadModule(type)
        do {
            FileTree.closeQuietly(try tree.ensureDirectory(mountPoint, created: created))
            try tree.mount(source: found.path, fileSystemType: type, data: nil, at: mountPoint)
        } catch {
            throw Failure(reason: "mounting \(found.path) (\(type)): \(error)", devicePath: found.path)
        }
        console("\(role) \(device) is \(found.path) (\(type)), mounted on \(display ?? mountPoint)")
        return Mounted(devicePath: found.path, fileSystemType: type)
    }
}
