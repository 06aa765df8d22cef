import CNodeShim
import Glibc
import Logging
import SystemPackage

/// Hands the machine from the initramfs (rootfs) to a mounted root, u-root style. pivot_root does
/// not work from rootfs, so: move /dev /proc /sys /run into the new root, chdir there, move the new
/// root onto "/", chroot("."), free the initramfs through a descriptor kept on the old root (never
/// crossing into another file system), then exec the init with the console as stdio.
///
/// The freeing runs in a child at nice 19 while the image's init starts: unlinking the tens of megabytes of an
/// initramfs took 350 to 980 ms of the boot under QEMU TCG, and nothing after the exec needs that memory at once.
/// The image's init inherits the child and reaps it as it reaps every orphan. When fork fails, PID 1 frees inline.
/// With `successorWork` (the device drivers still loading), the child runs it first: a plain fork, since PID 1 has
/// no other thread left by then (checked; with one, PID 1 does the work itself before the exec).
///
/// The moves call mount(2) directly: libmount reads /proc/self/mountinfo to prepare each mount,
/// and /proc is one of the things moving away.
public struct SwitchRoot: Sendable {
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case newRootMissing(String)
        case initMissing(root: String, path: String)
        case openOldRoot(Errno)
        case move(source: String, target: String, Errno)
        case chdir(String, Errno)
        case chroot(Errno)
        case exec(path: String, Errno)

        public var description: String {
            switch self {
            case .newRootMissing(let root): "new root \(root) is not a directory"
            case .initMissing(let root, let path): "init \(path) does not exist under \(root)"
            case .openOldRoot(let errno): "cannot open the initramfs root: \(errno.report)"
            case .move(let source, let target, let errno): "cannot move mount \(source) to \(target): \(errno.report)"
            case .chdir(let path, let errno): "cannot chdir to \(path): \(errno.report)"
            case .chroot(let errno): "chroot into the new root failed: \(errno.report)"
            case .exec(let path, let errno): "exec \(path) failed: \(errno.report)"
            }
        }
    }

    public var newRoot: String
    public var initPath: String
    public var initArguments: [String]
    public var environment: [String]
    public var movedMounts: [String] = ["/dev", "/proc", "/sys", "/run"]
    /// Work for the process that frees the initramfs, done before the freeing while the image's init starts. Its
    /// argument is the initramfs's root: after the chroot, the initramfs's files are reachable only through it.
    public var successorWork: (@Sendable (FileDescriptor) -> Void)?

    public init(newRoot: String, initPath: String, initArguments: [String] = [], environment: [String]) {
        self.newRoot = newRoot
        self.initPath = initPath
        self.initArguments = initArguments
        self.environment = environment
    }

    /// Checks what can be checked before anything is moved, so a bad init= fails while the
    /// initramfs (and its shell) is still there.
    public func validate() throws(Error) {
        guard FileSystem.isDirectory(newRoot) else { throw .newRootMissing(newRoot) }
        var info = stat()
        // lstat: /sbin/init is often an absolute symlink that only resolves inside the new root.
        guard lstat(newRoot + initPath, &info) == 0 else { throw .initMissing(root: newRoot, path: initPath) }
    }

    /// Does not return on success. On failure after the moves the machine is in the new root
    /// with the initramfs partly freed; the caller can only report and take the emergency action.
    public func perform(logger: Logger) throws(Error) -> Never {
        try validate()
        var rootInfo = stat()
        let rootDescriptor = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootDescriptor >= 0, fstat(rootDescriptor, &rootInfo) == 0 else { throw .openOldRoot(.captured) }
        let oldRoot = FileDescriptor(rawValue: rootDescriptor)

        for mountPoint in movedMounts {
            var info = stat()
            // Only real mounts move; a plain directory (same device as rootfs) stays and is freed.
            guard stat(mountPoint, &info) == 0, info.st_dev != rootInfo.st_dev else { continue }
            let target = newRoot + mountPoint
            if !FileSystem.isDirectory(target) { try? FileSystem.makeDirectory(target) }
            if case .failure(let errno) = nothingOrErrno({ Glibc.mount(mountPoint, target, nil, UInt(MS_MOVE), nil) }) {
                throw .move(source: mountPoint, target: target, errno)
            }
        }
        if chdir(newRoot) == -1 { throw .chdir(newRoot, .captured) }
        if case .failure(let errno) = nothingOrErrno({ Glibc.mount(newRoot, "/", nil, UInt(MS_MOVE), nil) }) {
            throw .move(source: newRoot, target: "/", errno)
        }
        if chroot(".") == -1 { throw .chroot(.captured) }
        if chdir("/") == -1 { throw .chdir("/", .captured) }

        if let work = successorWork {
            if Self.isSingleThreaded() {
                let successor = nodeinit_fork_successor(oldRoot.rawValue)
                if successor == 0 {
                    work(FileDescriptor(rawValue: 3))
                    _ = nodeinit_remove_tree(3, rootInfo.st_dev)
                    _exit(0)
                }
                if successor > 0 {
                    try? oldRoot.close()
                    logger.info(
                        "switch_root: the remaining device drivers, then freeing the initramfs, in the background (pid \(successor)), exec \(initPath)"
                    )
                    try exec()
                }
            }
            work(oldRoot)
        }
        let freeing = nodeinit_remove_tree_in_child(oldRoot.rawValue, rootInfo.st_dev)
        if freeing > 0 {
            try? oldRoot.close()
            logger.info("switch_root: freeing the initramfs in the background (pid \(freeing)), exec \(initPath)")
        } else {
            let forkFailure = Errno.captured
            let freed = Self.removeContents(of: oldRoot, device: rootInfo.st_dev)
            try? oldRoot.close()
            logger.info(
                "switch_root: freed \(freed) initramfs entries (no child: \(forkFailure.report)), exec \(initPath)")
        }
        try exec()
    }

    private func exec() throws(Error) -> Never {
        try? Console.attachStandardStreams()
        let argv = ([initPath] + initArguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        execve(initPath, argv, envp)
        let savedErrno = Errno.captured
        for pointer in argv { free(pointer) }
        for pointer in envp { free(pointer) }
        throw .exec(path: initPath, savedErrno)
    }

    /// True when /proc/self/task lists one thread: a forked child may then run ordinary code.
    static func isSingleThreaded() -> Bool {
        ((try? FileSystem.entries(of: "/proc/self/task")) ?? []).count == 1
    }

    /// Unlinks everything below the directory `directory` that lives on `device` (CNodeShim's tree removal, the
    /// one the background child runs). Directories on other devices (mount points) are left alone. Returns the number
    /// of entries removed.
    static func removeContents(of directory: FileDescriptor, device: dev_t) -> Int {
        Int(nodeinit_remove_tree(directory.rawValue, device))
    }
}
