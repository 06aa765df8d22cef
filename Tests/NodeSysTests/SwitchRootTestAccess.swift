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
        return SwitchRoot.removeContents(of: FileDescriptor(rawValue: fd), device: info.st_dev, depth: 0)
    }
}

extension SwitchRootTestAccess {
    static func removeDirectory(_ path: String) -> Bool { rmdir(path) == 0 }
}
