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

    /// The process switch_root forks for the drivers still to load: in the child, writes `marker` below descriptor 3
    /// and exits with 0 when descriptor 0 is a character device (/dev/null) and `probe` is closed, else 2 or 3. The
    /// child sticks to system calls on stack values: this test process has other threads. Returns the wait status.
    static func successorChild(root path: String, probe: Int32) -> Int32 {
        let fd = open(path, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        let pid = nodeinit_fork_successor(fd)
        if pid == 0 {
            var info = stat()
            if fstat(0, &info) != 0 || (info.st_mode & S_IFMT) != S_IFCHR { _exit(2) }
            if fcntl(probe, F_GETFD) != -1 { _exit(3) }
            let marker = openat(3, "marker", O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
            _exit(marker >= 0 ? 0 : 4)
        }
        guard pid > 0 else { return -1 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        return status
    }

    static func removeDirectory(_ path: String) -> Bool { rmdir(path) == 0 }
}
