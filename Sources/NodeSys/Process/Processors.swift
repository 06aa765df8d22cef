import Glibc

/// The machine's processors, for sizing worker pools (zstd's compression threads).
public enum Processors {
    /// Processors online now (sysconf), at least 1.
    public static var onlineCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}
