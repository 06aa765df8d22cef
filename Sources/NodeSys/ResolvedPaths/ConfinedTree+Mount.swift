import CNodeShim
import Glibc
import SystemPackage

extension ConfinedTree {
    /// Bind-mounts `sourcePath` of `source` on `targetPath` of `target`, both resolved confined and neither
    /// allowed to be a symlink, through descriptors (open_tree + move_mount): nothing is looked up by name after
    /// the check, so a symlink swapped in later cannot redirect the mount. `readOnly` makes the new mount
    /// read-only before it becomes visible.
    public static func bind(
        from source: ConfinedTree, _ sourcePath: String, onto target: ConfinedTree, _ targetPath: String,
        readOnly: Bool = false
    ) throws(Error) {
        let from = try source.openLocation(sourcePath)
        defer { FileTree.closeQuietly(from) }
        let to = try target.openLocation(targetPath)
        defer { FileTree.closeQuietly(to) }
        let tree = nodeinit_clone_tree(from.rawValue, 0)
        if tree < 0 {
            throw .system(
                operation: "open_tree (bind source)", tree: source.path, path: sourcePath,
                errno: Errno(rawValue: Glibc.errno))
        }
        defer { _ = Glibc.close(tree) }
        if readOnly && nodeinit_tree_set_readonly(tree, 0) != 0 {
            throw .system(
                operation: "mount_setattr read-only", tree: source.path, path: sourcePath,
                errno: Errno(rawValue: Glibc.errno))
        }
        if nodeinit_attach_tree(tree, to.rawValue) != 0 {
            throw .system(
                operation: "move_mount (bind target)", tree: target.path, path: targetPath,
                errno: Errno(rawValue: Glibc.errno))
        }
    }

    /// mount(2) of a file system (`nfs`, `tmpfs`, `ext4`, `overlay`...) on the directory `inTree`, resolved
    /// confined; the kernel is handed `/proc/self/fd/N` so it mounts on exactly the directory checked.
    public func mount(
        source: String, fileSystemType: String, readOnly: Bool = false, data: String?, at inTree: String
    ) throws(Error) {
        let target = try openLocation(inTree)
        defer { FileTree.closeQuietly(target) }
        var st = stat()
        if fstat(target.rawValue, &st) == 0 && (st.st_mode & S_IFMT) != S_IFDIR {
            throw .wrongKind(tree: path, path: inTree, expected: "directory", found: "non-directory")
        }
        let procPath = "/proc/self/fd/\(target.rawValue)"
        let flags: UInt = readOnly ? UInt(MS_RDONLY) : 0
        let mounted = nothingOrErrno {
            if let data { return data.withCString { Glibc.mount(source, procPath, fileSystemType, flags, $0) } }
            return Glibc.mount(source, procPath, fileSystemType, flags, nil)
        }
        if case .failure(let errno) = mounted {
            throw .system(operation: "mount \(fileSystemType) \(source)", tree: path, path: inTree, errno: errno)
        }
    }

    /// umount2(MNT_DETACH) of whatever is mounted on `inTree` (used to undo a temporary mount).
    public func unmount(_ inTree: String) throws(Error) {
        let target = try openLocation(inTree)
        defer { FileTree.closeQuietly(target) }
        if umount2("/proc/self/fd/\(target.rawValue)", Int32(MNT_DETACH)) != 0 {
            throw .system(operation: "umount", tree: path, path: inTree, errno: Errno(rawValue: Glibc.errno))
        }
    }

    /// True when `inTree` is the top of a mount (its device differs from its parent's, or the tree's top).
    public func isMountPoint(_ inTree: String) -> Bool {
        guard let own = try? status(inTree) else { return false }
        let parts = (try? components(inTree)) ?? []
        let parent = "/" + parts.dropLast().joined(separator: "/")
        guard let parentStatus = try? status(parent) else { return false }
        return own.device != parentStatus.device
    }
}
