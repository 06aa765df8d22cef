import CNodeShim
import Glibc
import SystemPackage

/// The readahead of a mounted file system's backing device (`/sys/class/bdi/<major>:<minor>/read_ahead_kb`). The
/// Linux NFS client sets 128 KiB since 5.4, so every page fault in a library or binary of an NFS root costs a READ of
/// at most 128 KiB even when the server takes 1 MiB (rsize); a larger window makes fewer, larger READs.
public enum MountReadahead {
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case stat(path: String, Errno)
        case read(path: String, FileContents.Error)
        case write(path: String, FileContents.Error)

        public var description: String {
            switch self {
            case .stat(let path, let errno): "cannot stat \(path): \(errno.report)"
            case .read(let path, let error): "cannot read \(path): \(error)"
            case .write(let path, let error): "cannot set \(path): \(error)"
            }
        }
    }

    /// The sysfs file of the backing device of what is mounted at `mountPoint`.
    public static func controlFile(ofMountAt mountPoint: String, sysfs: String = "/sys") throws(Error) -> String {
        var info = stat()
        guard stat(mountPoint, &info) == 0 else { throw .stat(path: mountPoint, .captured) }
        return "\(sysfs)/class/bdi/\(nodeinit_major(info.st_dev)):\(nodeinit_minor(info.st_dev))/read_ahead_kb"
    }

    /// Sets the readahead of the mount at `mountPoint` to `kibibytes`; returns the value it had.
    public static func set(_ kibibytes: Int, ofMountAt mountPoint: String, sysfs: String = "/sys") throws(Error) -> Int
    {
        let file = try controlFile(ofMountAt: mountPoint, sysfs: sysfs)
        let previous: Int
        do {
            let text = try FileContents.string(at: file, limit: 64)
            previous = Int(text.filter { $0 != "\n" && $0 != " " }) ?? -1
        } catch {
            throw .read(path: file, error)
        }
        do {
            try FileContents.write("\(kibibytes)\n", to: file)
        } catch {
            throw .write(path: file, error)
        }
        return previous
    }
}
