import Glibc
import SystemPackage

/// The kernel's host name (the UTS nodename the booted system starts with).
public enum Hostname {
    public static func set(_ name: String) throws(Errno) {
        let length = name.utf8.count
        let result = name.withCString { sethostname($0, length) }
        if result == -1 { throw .captured }
    }
}
