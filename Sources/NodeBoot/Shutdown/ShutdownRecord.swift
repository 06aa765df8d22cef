import NodeSys

/// What the boot leaves for the shutdown (`RuntimeLayout.shutdownRecord`): the agent to stop and the block devices
/// whose file systems must end clean. One `key value...` per line; unknown keys are skipped, so an older shutdown
/// program reads a newer record.
///
///     agent-pid 312
///     device ext4 /dev/loop0
///     device ext4 /dev/vda
public struct ShutdownRecord: Sendable, Equatable {
    /// A file system on a block device, mounted read-write at boot.
    public struct WritableDevice: Sendable, Equatable {
        public var fileSystemType: String
        /// `/dev/...`.
        public var device: String

        public init(fileSystemType: String, device: String) {
            self.fileSystemType = fileSystemType
            self.device = device
        }
    }

    public var agentPID: Int32?
    /// Inner first: a loop device's file system before the device holding its image file.
    public var devices: [WritableDevice]

    public init(agentPID: Int32? = nil, devices: [WritableDevice] = []) {
        self.agentPID = agentPID
        self.devices = devices
    }

    /// The block-device file systems mounted read-write in `mounts`, inner first (the kernel lists a mount after
    /// the ones it was made on), each device once.
    public static func writableDevices(in mounts: [MountEntry]) -> [WritableDevice] {
        var seen: Set<String> = []
        var devices: [WritableDevice] = []
        for entry in mounts.reversed() where entry.source.hasPrefix("/dev/") && !entry.isReadOnly {
            guard isRecordable(entry.source), isRecordable(entry.fileSystemType), !entry.fileSystemType.isEmpty,
                seen.insert(entry.source).inserted
            else { continue }
            devices.append(WritableDevice(fileSystemType: entry.fileSystemType, device: entry.source))
        }
        return devices
    }

    /// A value the line format carries unchanged: no white space or control bytes.
    private static func isRecordable(_ value: String) -> Bool {
        !value.utf8.contains { $0 <= 0x20 || $0 == 0x7f }
    }

    public var text: String {
        var lines = ["# nodeinit: what the shutdown stops and leaves clean"]
        if let agentPID { lines.append("agent-pid \(agentPID)") }
        for device in devices { lines.append("device \(device.fileSystemType) \(device.device)") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Parses `text`; malformed lines are skipped (a shutdown goes on with what it can read).
    public init(text: String) {
        self.init()
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            switch fields.first {
            case "agent-pid":
                if fields.count == 2, let pid = Int32(fields[1]), pid > 1 { agentPID = pid }
            case "device":
                if fields.count == 3, fields[2].hasPrefix("/dev/") {
                    devices.append(WritableDevice(fileSystemType: String(fields[1]), device: String(fields[2])))
                }
            default:
                continue
            }
        }
    }
}
