import NodeSys
import SystemPackage

/// Where a tar stream is read from. `read` returns 0 only at the end of the stream.
public protocol ByteSource {
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// Reads a file descriptor (a file, a pipe, stdin).
public struct FileDescriptorSource: ByteSource {
    public let descriptor: FileDescriptor
    public init(_ descriptor: FileDescriptor) { self.descriptor = descriptor }
    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try descriptor.read(into: buffer)
    }
}

/// Reads bytes held in memory (tests).
public struct MemorySource: ByteSource {
    private let bytes: [UInt8]
    private var offset = 0
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = min(buffer.count, bytes.count - offset)
        guard count > 0 else { return 0 }
        bytes.withUnsafeBytes {
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + count)]))
        }
        offset += count
        return count
    }
}
