import Glibc

/// Wall-clock time as `2026-11-22T04:08:02.123Z`, for log lines written into files the node keeps.
public enum UTCTimestamp {
    public static func now() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        let millis = Int32(truncatingIfNeeded: now.tv_nsec / 1_000_000)
        return "\(pad(parts.tm_year &+ 1900, 4))-\(pad(parts.tm_mon &+ 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(millis, 3))Z"
    }
}
