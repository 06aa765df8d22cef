import Glibc
import NodeSys
import SystemPackage

/// Where a tar stream goes. Implementations may buffer; `flush` pushes everything downstream.
public protocol ByteSink {
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws
    mutating func flush() throws
}

/// A sink that can take file contents straight from another descriptor (sendfile), skipping user space.
public protocol FileCopyingSink: ByteSink {
    /// Copies up to `count` bytes of `file` from `offset` after everything written so far; returns the bytes
    /// copied (fewer only when the file ended early), or nil when this sink cannot copy from that file.
    func copy(from file: FileDescriptor, offset: Int64, count: Int64, path: String) throws -> Int64?
}

/// Writes to a file descriptor through one fixed-size buffer, so memory stays constant whatever the stream size.
/// Writes at least half the buffer size bypass the buffer (after flushing it) to avoid a copy.
public final class FileDescriptorSink: FileCopyingSink {
    public let descriptor: FileDescriptor
    private let buffer: UnsafeMutableRawBufferPointer
    private var used = 0
    /// Bytes handed to the descriptor so far.
    public private(set) var bytesWritten: Int64 = 0
    private var sendFileWorks = true

    public init(_ descriptor: FileDescriptor, bufferSize: Int = 1 << 20) {
        self.descriptor = descriptor
        self.buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bufferSize, 4096), alignment: 4096)
        FileTree.enlargePipeBuffer(descriptor, to: Int32(clamping: max(bufferSize, 65536)))
    }

    deinit { buffer.deallocate() }

    public func copy(from file: FileDescriptor, offset: Int64, count: Int64, path: String) throws -> Int64? {
        guard sendFileWorks else { return nil }
        try flush()
        do {
            let copied = try FileTree.sendFile(file, offset: offset, count: count, to: descriptor, path: path)
            bytesWritten += copied
            return copied
        } catch {
            // EINVAL/ENOSYS: this output (or file) does not support sendfile; use read/write from now on.
            if error.errno == .invalidArgument || error.errno == .noFunction {
                sendFileWorks = false
                return nil
            }
            throw error
        }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        if bytes.count >= buffer.count / 2 {
            try flush()
            try FileTree.writeAll(descriptor, bytes, path: "output")
            bytesWritten += Int64(bytes.count)
            return
        }
        if used + bytes.count > buffer.count { try flush() }
        if bytes.count > 0 {
            UnsafeMutableRawBufferPointer(rebasing: buffer[used..<(used + bytes.count)]).copyMemory(from: bytes)
        }
        used += bytes.count
    }

    public func flush() throws {
        guard used > 0 else { return }
        try FileTree.writeAll(descriptor, UnsafeRawBufferPointer(rebasing: buffer[0..<used]), path: "output")
        bytesWritten += Int64(used)
        used = 0
    }
}

/// Collects the stream in memory (tests and small layers).
public struct MemorySink: ByteSink {
    public private(set) var bytes: [UInt8] = []
    public init() {}
    public mutating func write(_ chunk: UnsafeRawBufferPointer) throws { bytes.append(contentsOf: chunk) }
    public mutating func flush() throws {}
}

/// Counts and drops everything (summaries).
public struct DiscardingSink: ByteSink {
    public private(set) var byteCount: Int64 = 0
    public init() {}
    public mutating func write(_ bytes: UnsafeRawBufferPointer) throws { byteCount += Int64(bytes.count) }
    public mutating func flush() throws {}
}
