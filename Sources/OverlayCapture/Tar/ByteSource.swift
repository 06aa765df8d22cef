import NodeSys
import SystemPackage

/// Where a tar stream is read from. `read` returns 0 only at the end of the stream.
public protocol ByteSource {
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// A source that can pass over bytes without handing them out, so a reader that skips a large member's data does
/// not have it copied to it (`pull` writes the layer to its file in the kernel and reads back only what it parses).
public protocol SkippingByteSource: AnyObject, ByteSource {
    /// Passes over up to `count` bytes; returns how many, fewer only at the end of the stream.
    func skip(_ count: Int64) throws -> Int64
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
