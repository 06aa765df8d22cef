import CNodeShim
import Glibc
import SystemPackage

extension TCPStream {
    /// Sends exactly `count` bytes taken from `pipe` with splice(2): the kernel hands the pipe's pages to TCP
    /// (page-cache pages that sendfile put into the pipe, or the pipe's own buffers) instead of copying them
    /// through user space. The pipe should already hold `count` bytes (`FileTree.waitForPipeData`); if it has
    /// fewer, this waits for its writer. `more` (SPLICE_F_MORE) lets the kernel hold the last partial segment
    /// back until the next send. Waits for socket buffer space up to `timeoutMilliseconds` of no progress.
    public func send(fromPipe pipe: FileDescriptor, count: Int, more: Bool = false, timeoutMilliseconds: Int32 = 60_000)
        throws(Error)
    {
        let flags = UInt32(NODEINIT_SPLICE_MOVE) | (more ? UInt32(NODEINIT_SPLICE_MORE) : 0)
        var sent = 0
        while sent < count {
            switch valueOrErrno({ nodeinit_splice(pipe.rawValue, fd.rawValue, count - sent, flags) }) {
            case .success(0):
                throw .pipeEnded(peer, expected: count, sent: sent)
            case .success(let moved):
                sent += moved
            case .failure(.resourceTemporarilyUnavailable):
                try waitUntilWritable(timeoutMilliseconds: timeoutMilliseconds)
            case .failure(let saved):
                throw .send(peer, saved)
            }
        }
    }
}

extension TCPStream {
    /// Receives up to `maxCount` bytes into `pipe` with splice(2): the kernel queues the received pages in the pipe
    /// instead of copying them to user space. Returns the byte count, 0 when the peer closed. `pipe` must have room
    /// for `maxCount` bytes (an emptied pipe of at least that size), or this may wait on a full pipe until the
    /// timeout. Waits at most `timeoutMilliseconds` for the first byte.
    public func receive(toPipe pipe: FileDescriptor, maxCount: Int, timeoutMilliseconds: Int32 = 60_000)
        throws(Error) -> Int
    {
        guard maxCount > 0 else { return 0 }
        let flags = UInt32(NODEINIT_SPLICE_MOVE) | UInt32(NODEINIT_SPLICE_NONBLOCK)
        while true {
            switch valueOrErrno({ nodeinit_splice(fd.rawValue, pipe.rawValue, maxCount, flags) }) {
            case .success(let moved):
                return moved
            case .failure(.resourceTemporarilyUnavailable):
                try waitUntilReadable(timeoutMilliseconds: timeoutMilliseconds)
            case .failure(let saved):
                throw .receive(peer, saved)
            }
        }
    }
}

extension FileTree {
    /// Moves exactly `count` bytes the pipe holds into `file` at its current offset with splice(2) (the kernel
    /// copies the pipe's pages into the file's; nothing passes through user space). EINVAL means the file system
    /// takes no splice: the caller reads the pipe and writes instead.
    public static func splice(from pipe: FileDescriptor, to file: FileDescriptor, count: Int, path: String)
        throws(Error)
    {
        var moved = 0
        while moved < count {
            let step = try retrying("splice", path) { nodeinit_splice(pipe.rawValue, file.rawValue, count - moved, 0) }
            if step == 0 { throw .system(operation: "splice (pipe empty)", path: path, errno: .ioError) }
            moved += step
        }
    }

    /// The capacity of a pipe (F_GETPIPE_SZ), nil when `fd` is not one.
    public static func pipeCapacity(_ fd: FileDescriptor) -> Int? {
        let size = fcntl(fd.rawValue, 1032 /* F_GETPIPE_SZ */)
        return size > 0 ? Int(size) : nil
    }

    /// Waits, without a time limit, until the pipe read end `pipe` holds data, and returns how many bytes it holds
    /// (FIONREAD); 0 once every writer has closed and the pipe is empty.
    public static func waitForPipeData(_ pipe: FileDescriptor, path: String) throws(Error) -> Int {
        while true {
            let pending = try retrying("ioctl FIONREAD", path) { nodeinit_pending_bytes(pipe.rawValue) }
            if pending > 0 { return Int(pending) }
            var entry = pollfd(fd: pipe.rawValue, events: Int16(POLLIN), revents: 0)
            _ = try retrying("poll", path) { poll(&entry, 1, -1) }
            if entry.revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 {
                // Hung up: whatever is still in the pipe comes first, then the end.
                let left = try retrying("ioctl FIONREAD", path) { nodeinit_pending_bytes(pipe.rawValue) }
                return Int(max(0, left))
            }
        }
    }
}
