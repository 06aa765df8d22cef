import Glibc
import NodeSys
import SystemPackage

/// Where a tar stream goes. Implementations may buffer; `flush` pushes everything downstream.
public protocol ByteSink {
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws
    mutating func flush() throws
}

/// Writes to a file descriptor through one fixed-size buffer, so memory stays constant whatever the stream size.
/// Writes at least half the buffer size bypass the buffer (after flushing it) to avoid a copy.
public final class FileDescriptorSink: ByteSink {
    public let descriptor: FileDescriptor
    private let buffer: UnsafeMutableRawBufferPointer
    private var used = 0
    /// Bytes handed to the descriptor so far.
    public private(set) var bytesWritten: Int64 = 0

    public init(_ descriptor: FileDescriptor, bufferSize: Int = 1 << 20) {
        self.descriptor = descriptor
        self.buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bufferSize, 4096), alignment: 4096)
    }

    deinit { buffer.deallocate() }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        if bytes.count >= buffer.count / 2 {
            try flush()
            try FileTree.writeAll(descriptor, bytes, path: "output")
            bytesWritten += Int64(bytes.count)
            return
        }
        if used + bytes.count > buffer.count { try flush() }
        if let base = bytes.baseAddress, bytes.count > 0 {
            (buffer.baseAddress! + used).copyMemory(from: base, byteCount: bytes.count)
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
