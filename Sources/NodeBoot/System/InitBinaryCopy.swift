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
            if !Self.copyInKernel(input, to: output, path: source) {
                try output.seek(offset: 0, from: .start)
                try output.resize(to: 0)
                var buffer = [UInt8](repeating: 0, count: 1 << 20)
                while true {
                    let count = try buffer.withUnsafeMutableBytes { try input.read(into: $0) }
                    if count == 0 { break }
                    _ = try buffer[0..<count].withUnsafeBytes { try output.writeAll($0) }
                }
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

    /// sendfile(2) of the whole file: one copy in the kernel instead of two through a buffer (13 MB on every boot,
    /// under QEMU TCG too). False when the kernel refuses the pair; the output may then hold part of the file.
    /// It reads with its own offset, so `input` is still at its start.
    private static func copyInKernel(_ input: FileDescriptor, to output: FileDescriptor, path: String) -> Bool {
        do {
            _ = try FileTree.sendFile(input, offset: 0, count: .max, to: output, path: path)
            return true
        } catch {
            return false
        }
    }
}
