import NodeSys
import RuntimeLayout
import SystemPackage

/// The init's own binary copied to /run/nodeinit: /run moves into the new root, so the agent and the shutdown
/// program stay executable after the initramfs is freed. Written to a temporary name, then renamed.
struct InitBinaryCopy {
    enum Error: Swift.Error, CustomStringConvertible {
        case copy(source: String, target: String, Errno)
        case rename(String)

        var description: String {
            switch self {
            case .copy(let source, let target, let errno): "cannot copy \(source) to \(target): \(errno.report)"
            case .rename(let reason): reason
            }
        }
    }

    var source = "/proc/self/exe"
    var target = RuntimeLayout.node.agentBinary

    func write() throws(Error) {
        let temporary = target + ".new"
        do {
            let input = try FileDescriptor.open(FilePath(source), .readOnly, options: [.closeOnExec])
            defer { try? input.close() }
            let output = try FileDescriptor.open(
                FilePath(temporary), .writeOnly, options: [.create, .truncate, .closeOnExec],
                permissions: [.ownerReadWriteExecute])
            defer { try? output.close() }
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            while true {
                let count = try buffer.withUnsafeMutableBytes { try input.read(into: $0) }
                if count == 0 { break }
                _ = try buffer[0..<count].withUnsafeBytes { try output.writeAll($0) }
            }
        } catch {
            throw .copy(source: source, target: temporary, Errno(thrown: error))
        }
        do {
            try PathOperations.rename(temporary, to: target)
        } catch {
            PathOperations.removeFile(temporary)
            throw .rename("\(error)")
        }
    }
}
