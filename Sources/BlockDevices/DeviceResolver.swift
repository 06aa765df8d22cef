import Glibc
import NodeSys

/// Finds the block device a devspec names by probing every device in /sys/class/block, polling until it appears
/// or the timeout passes (dracut checks once before waiting and then falls back silently; we wait first).
public struct DeviceResolver: Sendable {
    public var sysClassBlock: String
    public var devDirectory: String
    /// Pause between scans.
    public var pollMilliseconds: Int

    public init(sysClassBlock: String = "/sys/class/block", devDirectory: String = "/dev", pollMilliseconds: Int = 200)
    {
        self.sysClassBlock = sysClassBlock
        self.devDirectory = devDirectory
        self.pollMilliseconds = pollMilliseconds
    }

    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case notFound(spec: String, waitedSeconds: Int, devicesSeen: [String])
        case ambiguous(spec: String, devices: [String])

        public var description: String {
            switch self {
            case .notFound(let spec, let waited, let seen):
                return
                    "no block device matches \(spec) after \(waited) s (devices seen: \(seen.isEmpty ? "none" : seen.joined(separator: " ")))"
            case .ambiguous(let spec, let devices):
                return "\(spec) matches several block devices (\(devices.joined(separator: " "))); use a unique UUID"
            }
        }
    }

    /// One scan: every device matching `match` (paths compare after resolving the given `/dev/...` name).
    public func scan(_ match: DeviceMatch) -> (matches: [DeviceIdentity], seen: [String]) {
        let names = BlockDeviceProbe.deviceNames(sysClassBlock: sysClassBlock)
        if case .path(let wanted) = match {
            let exists = access(wanted, F_OK) == 0
            guard exists else { return ([], names) }
            let identity = (try? BlockDeviceProbe.identify(wanted)) ?? DeviceIdentity(path: wanted)
            return ([identity], names)
        }
        var matches: [DeviceIdentity] = []
        for name in names {
            let path = devDirectory + "/" + name
            guard let identity = try? BlockDeviceProbe.identify(path) else { continue }
            if match.matches(identity) { matches.append(identity) }
        }
        return (matches, names)
    }

    /// Waits up to `timeoutSeconds` (0: forever, as `rd.timeout=0`) for exactly one device matching `match`.
    /// `progress` is called about every 5 s with the seconds waited, for a console line.
    public func wait(
        for match: DeviceMatch, timeoutSeconds: Int, progress: (Int) -> Void = { _ in }
    ) throws(Error) -> DeviceIdentity {
        let start = Self.monotonicMilliseconds()
        var lastReport = start
        while true {
            let (matches, seen) = scan(match)
            if matches.count == 1, let only = matches.first { return only }
            if matches.count > 1 {
                // Whole disk and its only partition can both carry a PARTUUID-less match; identical filesystem
                // UUIDs on two disks are a real ambiguity.
                throw .ambiguous(spec: match.description, devices: matches.map(\.path))
            }
            let now = Self.monotonicMilliseconds()
            let waited = now &- start
            if timeoutSeconds > 0 && waited >= Int64(timeoutSeconds) &* 1000 {
                throw .notFound(spec: match.description, waitedSeconds: Int(waited / 1000), devicesSeen: seen)
            }
            if now &- lastReport >= 5000 {
                lastReport = now
                progress(Int(waited / 1000))
            }
            Pause.sleep(milliseconds: pollMilliseconds)
        }
    }

    static func monotonicMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) &* 1000 &+ Int64(now.tv_nsec / 1_000_000)
    }
}
