import NodeSys
import SystemPackage

/// The order of a shutdown's unmounts. Pure: mount tables in, ordered targets out.
public enum ShutdownPlanner {
    /// Where the shutdown runs, which decides what it unmounts.
    public enum Origin: Sendable, Equatable {
        /// systemd-shutdown switched root into /run/initramfs and exec'd us as PID 1: the image is on `oldRoot`,
        /// and all of it goes (the overlay root last).
        case returnedFromSystemd(oldRoot: FilePath)
        /// Run by the image's own shutdown (sysvinit's halt script, busybox's `::shutdown:`): / stays (read-only
        /// at the end), and so do the kernel's file systems and /run, which holds this program.
        case fromImage
    }

    static let keptInImage: [FilePath] = ["/proc", "/sys", "/dev", "/run"]

    /// The mounts to unmount, deepest first; of two on one path, the later one first.
    public static func unmountOrder(_ mounts: [MountEntry], origin: Origin) -> [MountEntry] {
        let chosen: [(offset: Int, element: MountEntry)] = mounts.enumerated().filter { _, entry in
            switch origin {
            case .returnedFromSystemd(let oldRoot):
                return entry.target.starts(with: oldRoot)
            case .fromImage:
                return entry.target != "/" && !keptInImage.contains { entry.target.starts(with: $0) }
            }
        }
        return chosen.sorted { left, right in
            let leftDepth = left.element.target.components.count
            let rightDepth = right.element.target.components.count
            return leftDepth != rightDepth ? leftDepth > rightDepth : left.offset > right.offset
        }.map(\.element)
    }

    /// What stays mounted after the unmounts and is remounted read-only instead: in the image, / itself.
    public static func remountOrder(_ remaining: [MountEntry], origin: Origin) -> [MountEntry] {
        switch origin {
        case .returnedFromSystemd:
            return unmountOrder(remaining, origin: origin)
        case .fromImage:
            return remaining.filter { $0.target == "/" }.reversed()
        }
    }
}
