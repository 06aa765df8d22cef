import Glibc

/// The process environment.
public enum Environment {
    /// getenv(3): the variable's value, or nil when it is not set.
    public static func value(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
}
