import CNodeShim
import Glibc
import SystemPackage

extension FileTree {
    /// Start of the next data segment at or after `offset`, or nil when only a hole remains (ENXIO).
    public static func nextData(_ fd: FileDescriptor, from offset: Int64, path: @autoclosure () -> String) throws(Error)
        -> Int64?
    {
        try seek(fd, offset, nodeinit_seek_data(), path: path)
    }

    /// Start of the next hole at or after `offset` (the end of file counts as a hole).
    public static func nextHole(_ fd: FileDescriptor, from offset: Int64, path: @autoclosure () -> String) throws(Error)
        -> Int64?
    {
        try seek(fd, offset, nodeinit_seek_hole(), path: path)
    }

    private static func seek(_ fd: FileDescriptor, _ offset: Int64, _ whence: Int32, path: () -> String) throws(Error)
        -> Int64?
    {
        switch valueOrErrno(retryOnInterrupt: false, { lseek(fd.rawValue, off_t(offset), whence) }) {
        case .success(let position): return Int64(position)
        case .failure(.noSuchAddressOrDevice): return nil
        case .failure(let errno): throw .system(operation: "lseek", path: path(), errno: errno)
        }
    }

    /// `pread` into `buffer`, retried on EINTR; returns the byte count (0 at end of file).
    public static func read(
        _ fd: FileDescriptor, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64,
        path: @autoclosure () -> String
    ) throws(Error) -> Int {
        try retrying("read", path()) { pread(fd.rawValue, buffer.baseAddress, buffer.count, off_t(offset)) }
    }

    /// Tells the kernel the file is read once front to back (bigger readahead, pages dropped sooner).
    public static func adviseSequential(_ fd: FileDescriptor) {
        _ = posix_fadvise(fd.rawValue, 0, 0, POSIX_FADV_SEQUENTIAL)
    }

    /// Writes all of `buffer` to `fd`, retrying on EINTR and short writes.
    public static func writeAll(_ fd: FileDescriptor, _ buffer: UnsafeRawBufferPointer, path: @autoclosure () -> String)
        throws(Error)
    {
        var done = 0
        while done < buffer.count {
            let written = try retrying("write", path()) {
                Glibc.write(fd.rawValue, buffer.baseAddress.map { $0 + done }, buffer.count - done)
            }
            done += written
        }
    }

    /// Closes a descriptor, ignoring errors (used in defer on read-only descriptors).
    public static func closeQuietly(_ fd: FileDescriptor) {
        _ = Glibc.close(fd.rawValue)
    }
}

extension FileTree {
    /// Copies up to `count` bytes of `file` from `offset` to `output` in the kernel (sendfile), retrying on EINTR
    /// and partial copies. Returns the bytes copied: fewer than `count` only when the file ended early.
    /// Throws `.system` with EINVAL/ENOSYS when this pair of descriptors cannot use sendfile; callers fall back.
    public static func sendFile(
        _ file: FileDescriptor, offset: Int64, count: Int64, to output: FileDescriptor, path: @autoclosure () -> String
    ) throws(Error) -> Int64 {
        var position = off_t(offset)
        var done: Int64 = 0
        while done < count {
            let chunk = Int(min(count - done, 1 << 30))
            let sent: Int
            switch valueOrErrno({ Glibc.sendfile(output.rawValue, file.rawValue, &position, chunk) }) {
            case .success(let count): sent = count
            case .failure(.resourceTemporarilyUnavailable): continue
            case .failure(let errno): throw .system(operation: "sendfile", path: path(), errno: errno)
            }
            if sent == 0 { break }
            done += Int64(sent)
        }
        return done
    }

    /// Grows a pipe's buffer (F_SETPIPE_SZ) so a streaming writer needs fewer wake-ups; no-op on other fds.
    public static func enlargePipeBuffer(_ fd: FileDescriptor, to size: Int32) {
        var st = stat()
        guard fstat(fd.rawValue, &st) == 0, st.st_mode & S_IFMT == S_IFIFO else { return }
        _ = fcntl(fd.rawValue, 1031 /* F_SETPIPE_SZ */, size)
    }
}
