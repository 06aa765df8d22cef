import CNodeShim
import Glibc
import SystemPackage

/// A file attached to a loop block device (LOOP_CONFIGURE, or LOOP_SET_FD on old kernels), with autoclear set:
/// the device frees itself when the last user (the mount) goes away.
public struct LoopDevice: Sendable {
    /// `/dev/loopN`.
    public var path: String
    /// Open descriptor on the loop device; close it once the file system on it is mounted.
    public var descriptor: FileDescriptor

    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case attach(backing: String, errno: Errno)

        public var description: String {
            switch self {
            case .attach(let backing, let errno): return "loop setup for '\(backing)': \(errno)"
            }
        }
    }

    /// Attaches the already-open backing file `backing` (its name `backingName` is for messages).
    public static func attach(_ backing: FileDescriptor, backingName: String, readOnly: Bool) throws(Error)
        -> LoopDevice
    {
        var number: Int32 = -1
        let fd = nodeinit_loop_attach(backing.rawValue, readOnly ? 1 : 0, &number)
        if fd < 0 { throw .attach(backing: backingName, errno: Errno(rawValue: Glibc.errno)) }
        return LoopDevice(path: "/dev/loop\(number)", descriptor: FileDescriptor(rawValue: fd))
    }

    /// Detaches the backing file now (for cleanup when the mount failed).
    public func detach() {
        _ = nodeinit_loop_detach(descriptor.rawValue)
    }

    public func close() {
        _ = Glibc.close(descriptor.rawValue)
    }
}
