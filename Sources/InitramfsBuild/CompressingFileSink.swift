import InitramfsImage
import LayerCompression
import NodeSys
import SystemPackage

/// The archive's way to its file: bytes gather in a 256 KiB buffer (a cpio header is 110 bytes; thousands of
/// tiny writes would each be a compressor call or a system call), go through the streaming compressor, and
/// are written to the descriptor as the compressor produces them.
final class CompressingFileSink: CpioByteSink {
    let fd: FileDescriptor
    let path: String
    private let compressor: StreamCompressor?
    private let buffer: UnsafeMutableRawBufferPointer
    private var buffered = 0
    private(set) var bytesWritten: UInt64 = 0

    init(fd: FileDescriptor, path: String, compression: InitramfsCompression, level: Int32?, workers: Int32) throws {
        self.fd = fd
        self.path = path
        switch compression {
        case .zstd: compressor = try StreamCompressor(.zstd, level: level, workers: workers)
        case .gzip: compressor = try StreamCompressor(.gzip, level: level)
        case .none: compressor = nil
        }
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)
    }

    deinit { buffer.deallocate() }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var rest = bytes
        while !rest.isEmpty {
            if buffered == 0 && rest.count >= buffer.count {
                try push(rest, finish: false)
                return
            }
            let take = min(rest.count, buffer.count - buffered)
            UnsafeMutableRawBufferPointer(rebasing: buffer[buffered..<(buffered + take)])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: rest[0..<take]))
            buffered += take
            rest = UnsafeRawBufferPointer(rebasing: rest[take...])
            if buffered == buffer.count { try flush(finish: false) }
        }
    }

    /// Ends the compressed stream; the file is then complete.
    func finish() throws { try flush(finish: true) }

    private func flush(finish: Bool) throws {
        let pending = UnsafeRawBufferPointer(rebasing: buffer[0..<buffered])
        buffered = 0
        try push(pending, finish: finish)
    }

    private func push(_ bytes: UnsafeRawBufferPointer, finish: Bool) throws {
        if let compressor {
            try compressor.compress(bytes, finish: finish) { compressed in try writeOut(compressed) }
        } else {
            try writeOut(bytes)
        }
    }

    private func writeOut(_ bytes: UnsafeRawBufferPointer) throws {
        try FileTree.writeAll(fd, bytes, path: path)
        bytesWritten += UInt64(bytes.count)
    }
}
