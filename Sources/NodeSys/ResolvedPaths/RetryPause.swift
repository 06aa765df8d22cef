import Glibc

/// Sleeping between bounded retries (mounts of the persistent store and litetree sources).
public enum RetryPause {
    public static func sleep(milliseconds: Int) {
        guard milliseconds > 0 else { return }
        var pause = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
        var remaining = timespec()
        while nanosleep(&pause, &remaining) != 0 && Glibc.errno == EINTR { pause = remaining }
    }
}
