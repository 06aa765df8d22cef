import NodeSys
import SystemPackage

/// Reads from the merged overlay view, fd-anchored like the upper walk (no symlink followed on the way).
enum MergedView {
    /// Opens the regular file at the image-relative `path` (`etc/passwd`) for reading.
    static func open(_ path: some FileTreeName, in root: FileDescriptor) throws(FileTree.Error) -> FileDescriptor {
        let path = path.pathBytes
        let components = path.components
        guard let last = components.last else { throw .invalidName(path.description) }
        var directory = root
        var opened: [FileDescriptor] = []
        defer { opened.forEach(FileTree.closeQuietly) }
        for component in components.dropLast() {
            directory = try FileTree.openDirectory(in: directory, component)
            opened.append(directory)
        }
        return try FileTree.openForReading(in: directory, last)
    }

    /// The text of a small file (at most `limit` bytes), or nil when it does not exist.
    static func readText(_ path: String, in root: FileDescriptor, limit: Int = 4 << 20) throws(FileTree.Error)
        -> String?
    {
        let file: FileDescriptor
        do {
            file = try open(path, in: root)
        } catch {
            if error.errno == .noSuchFileOrDirectory || error.errno == .notDirectory { return nil }
            throw error
        }
        defer { FileTree.closeQuietly(file) }
        var bytes: [UInt8] = []
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        defer { chunk.deallocate() }
        while bytes.count < limit {
            let count = try FileTree.read(file, into: chunk, at: Int64(bytes.count), path: DisplayText.safe(path))
            if count == 0 { break }
            bytes += UnsafeRawBufferPointer(rebasing: chunk[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
