import Logging
import NodeSys

/// The initramfs's own mounts, in order: /proc first (the entry point usually did it already),
/// then /sys, /dev (devtmpfs, so /dev/kmsg and /dev/console exist), /dev/pts, /run.
/// All of these except /dev/pts move into the new root at switch_root.
public struct EarlyRootfs {
    public struct Item: Sendable, Equatable {
        public var mount: Mount
        public var mode: UInt32
        public var required: Bool
    }

    public var items: [Item] = [
        Item(
            mount: Mount(source: "proc", target: "/proc", fileSystemType: "proc", options: "nosuid,nodev,noexec"),
            mode: 0o555, required: true),
        Item(
            mount: Mount(source: "sysfs", target: "/sys", fileSystemType: "sysfs", options: "nosuid,nodev,noexec"),
            mode: 0o555, required: true),
        Item(
            mount: Mount(source: "devtmpfs", target: "/dev", fileSystemType: "devtmpfs", options: "nosuid,mode=0755"),
            mode: 0o755, required: true),
        Item(
            mount: Mount(
                source: "devpts", target: "/dev/pts", fileSystemType: "devpts",
                options: "nosuid,noexec,gid=5,mode=620,ptmxmode=000"), mode: 0o755, required: false),
        Item(
            mount: Mount(source: "tmpfs", target: "/run", fileSystemType: "tmpfs", options: "nosuid,nodev,mode=0755"),
            mode: 0o755, required: true),
    ]

    public var kernel: any BootKernel

    public init(kernel: any BootKernel) {
        self.kernel = kernel
    }

    /// Mounts what is not mounted yet. A required mount failing is fatal; an optional one is logged.
    public func create(logger: Logger) throws(BootFailure) {
        for item in items {
            let target = item.mount.target
            if kernel.isMountPoint(target) { continue }
            do {
                try kernel.makeDirectory(target, mode: item.mode)
                try kernel.mount(item.mount)
                logger.debug("mounted \(item.mount)")
            } catch {
                if item.required {
                    throw BootFailure(
                        phase: .earlyRootfs, action: "mounting \(target)",
                        inputs: [.init("mount", item.mount.description)],
                        error: "\(error)")
                }
                logger.warning("optional mount \(target) failed: \(error)")
            }
        }
    }
}
