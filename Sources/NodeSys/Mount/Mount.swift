import CLibMount
import SystemPackage

/// One mount, performed through libmount's context API: libmount splits the option string into
/// MS_* flags and file-system data and does the extra steps some requests need (a read-only bind
/// is a bind plus a read-only remount).
public struct Mount: Sendable, Equatable, CustomStringConvertible {
    public var source: String
    public var target: String
    public var fileSystemType: String?
    public var options: MountOptions

    public init(source: String, target: String, fileSystemType: String?, options: MountOptions = MountOptions()) {
        self.source = source
        self.target = target
        self.fileSystemType = fileSystemType
        self.options = options
    }

    public init(source: String, target: String, fileSystemType: String?, options: String) {
        self.init(
            source: source, target: target, fileSystemType: fileSystemType, options: MountOptions(parsing: options))
    }

    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case contextUnavailable
        /// `reason` is the kernel's errno text when mount(2) itself failed (libmount's own wording
        /// assumes block devices: ENOENT becomes "special device does not exist" even for NFS),
        /// else libmount's message.
        case failed(mount: String, reason: String, errno: Errno?)

        public var description: String {
            switch self {
            case .contextUnavailable: "cannot allocate a libmount context"
            case .failed(let mount, let reason, _): "mount \(mount) failed: \(reason)"
            }
        }

        /// Why, without the mount's description: "No such file or directory (errno 2)".
        public var reason: String {
            switch self {
            case .contextUnavailable: "cannot allocate a libmount context"
            case .failed(_, let reason, _): reason
            }
        }

        /// The kernel's errno for the mount(2) call, when the failure came from the kernel.
        public var errno: Errno? {
            if case .failed(_, _, let errno) = self { return errno }
            return nil
        }
    }

    public var description: String {
        "\(source) on \(target) type=\(fileSystemType ?? "auto") options=\(options.description.isEmpty ? "-" : options.description)"
    }

    public func mount() throws(Error) {
        guard let context = mnt_new_context() else { throw .contextUnavailable }
        defer { mnt_free_context(context) }
        // No /sbin/mount.<type> helpers: the initramfs has none, and mount.nfs would resolve names
        // through NSS, which a static binary cannot do. The kernel gets addr= from us instead.
        _ = mnt_context_disable_helpers(context, 1)
        // Never consult fstab: source and target are always given.
        _ = mnt_context_disable_swapmatch(context, 1)
        _ = mnt_context_set_source(context, source)
        _ = mnt_context_set_target(context, target)
        if let fileSystemType { _ = mnt_context_set_fstype(context, fileSystemType) }
        let optionText = options.description
        if !optionText.isEmpty { _ = mnt_context_set_options(context, optionText) }

        let rc = mnt_context_mount(context)
        if rc == 0 && mnt_context_get_status(context) == 1 { return }

        let syscallErrno = mnt_context_syscall_called(context) == 1 ? mnt_context_get_syscall_errno(context) : 0
        if syscallErrno > 0 {
            let errno = Errno(rawValue: syscallErrno)
            throw .failed(mount: description, reason: errno.report, errno: errno)
        }
        var buffer = [CChar](repeating: 0, count: 512)
        _ = mnt_context_get_excode(context, rc, &buffer, buffer.count)
        var message = String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if message.isEmpty { message = "libmount error \(rc)" }
        throw .failed(mount: description, reason: message, errno: nil)
    }
}
