import Glibc
import SystemPackage

/// The console as the standard descriptors 0, 1, 2.
public enum Console {
    /// Points stdin, stdout and stderr at /dev/console. PID 1 starts with them open only if the
    /// initramfs had a /dev/console node; exec'd programs need them either way.
    public static func attachStandardStreams(path: String = "/dev/console") throws(Errno) {
        let fd = open(path, O_RDWR | O_NOCTTY)
        if fd == -1 { throw .captured }
        for target: Int32 in 0...2 where fd != target {
            _ = dup2(fd, target)
        }
        if fd > 2 { close(fd) }
    }

    /// True when descriptor 2 is open (the kernel found /dev/console before running us).
    public static var hasStandardError: Bool {
        fcntl(2, F_GETFD) != -1
    }
}
