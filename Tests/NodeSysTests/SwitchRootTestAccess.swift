import CNodeShim
import Glibc
import SystemPackage

@testable import NodeSys

/// Runs SwitchRoot's fd-anchored deletion on an ordinary directory (the rest of SwitchRoot needs PID 1).
enum SwitchRootTestAccess {
    static func removeContents(_ path: String) -> Int {
        let fd = open(path, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        var info = stat()
        fstat(fd, &info)
        return SwitchRoot.removeContents(of: FileDescriptor(rawValue: fd), device: info.st_dev)
    }
}

extension SwitchRootTestAccess {
    /// The background removal switch_root starts: the child's wait status, or -1 when fork failed.
    static func removeContentsInChild(_ path: String) -> Int32 {
        let fd = open(path, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        var info = stat()
        fstat(fd, &info)
        let pid = nodeinit_remove_tree_in_child(fd, info.st_dev)
        guard pid > 0 else { return -1 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        return status
    }

    static func removeDirectory(_ path: String) -> Bool { rmdir(path) == 0 }
}
