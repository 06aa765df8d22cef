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
                switch Waiting.wait(
                    for: Int16(POLLOUT), on: fd, deadline: Waiting.deadline(afterMilliseconds: timeoutMilliseconds))
                {
                case .failure(let e): throw .send(peer, e)
                case .success(.timedOut): throw .sendTimedOut(peer, milliseconds: timeoutMilliseconds)
                case .success(.ready): continue
                }
            case .failure(let saved):
                throw .send(peer, saved)
            }
        }
    }
}

extension FileTree {
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
