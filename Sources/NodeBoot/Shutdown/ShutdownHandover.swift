import Logging
import NodeSys
import RuntimeLayout

/// What the boot prepares, just before switch_root, so the node can end clean: systemd's return-to-initramfs
/// directory (`/run/initramfs`, with `shutdown` a second name of the init's binary copy and the directories
/// systemd's switch needs: `oldroot`, `proc`, `sys`, `dev`, `run`), and the record of what the shutdown stops and
/// cleans (`ShutdownRecord`): the agent's pid and every block-device file system mounted read-write.
public struct ShutdownHandover {
    public enum Error: Swift.Error, CustomStringConvertible {
        case binary(String)
        case directory(FileSystem.Error)
        case record(path: String, FileContents.Error)

        public var description: String {
            switch self {
            case .binary(let reason): "no shutdown program: \(reason)"
            case .directory(let error): "\(error)"
            case .record(let path, let error): "cannot write \(path): \(error)"
            }
        }
    }

    public var agentPID: Int32?
    public var layout: RuntimeLayout
    public var shutdownRoot = RuntimeLayout.shutdownRoot
    public var binarySource = "/proc/self/exe"

    public init(agentPID: Int32?, layout: RuntimeLayout) {
        self.agentPID = agentPID
        self.layout = layout
    }

    /// The record for the mounts as they are now (read at the end of the boot).
    public func record(mounts: [MountEntry]) -> ShutdownRecord {
        ShutdownRecord(agentPID: agentPID, devices: ShutdownRecord.writableDevices(in: mounts))
    }

    public func prepare(logger: Logger) throws(Error) -> ShutdownRecord {
        if !FileSystem.exists(layout.agentBinary) {
            do { try InitBinaryCopy(source: binarySource, target: layout.agentBinary).write() } catch {
                throw .binary("\(error)")
            }
        }
        do {
            try FileSystem.makeDirectory(shutdownRoot, mode: 0o755)
            for name in ["oldroot", "proc", "sys", "dev", "run"] {
                try FileSystem.makeDirectory(shutdownRoot + "/" + name, mode: 0o755)
            }
        } catch {
            throw .directory(error)
        }
        let program = shutdownRoot + "/shutdown"
        PathOperations.removeFile(program)
        do {
            // Both on /run's tmpfs: a second name costs no memory.
            try FileSystem.hardLink(existing: layout.agentBinary, at: program)
        } catch {
            do { try InitBinaryCopy(source: layout.agentBinary, target: program).write() } catch {
                throw .binary("\(error)")
            }
        }
        let mounts = (try? MountTable.current()) ?? []
        let record = record(mounts: mounts)
        do { try FileContents.write(record.text, to: layout.shutdownRecord) } catch {
            throw .record(path: layout.shutdownRecord, error)
        }
        let devices = record.devices.map { "\($0.fileSystemType) \($0.device)" }
        logger.info(
            "shutdown prepared: \(program); it stops the agent\(agentPID.map { " (pid \($0))" } ?? " (none)") and leaves clean: \(devices.isEmpty ? "no writable device" : devices.joined(separator: ", "))"
        )
        return record
    }
}
