import CNodeShim
import Glibc
import SystemPackage

/// The first things PID 1 does, before any library that needs /proc runs.
public enum EarlyProcess {
    public static var isPID1: Bool { getpid() == 1 }

    /// True when PID 1 started before the kernel's random generator was ready, so the Swift runtime hashes with its
    /// fixed seed instead of waiting for it (CNodeShim random.c). Clears the flag and the environment variable, so
    /// the processes PID 1 starts are seeded randomly: call first thing, before any child exists.
    public static func tookFixedHashSeed() -> Bool { nodeinit_take_deterministic_hashing_flag() != 0 }

    /// Mounts /proc with mount(2) directly: libmount itself reads /proc/self/mountinfo, and the
    /// Swift runtime needs /proc/self/exe to find itself. Already-mounted is fine.
    public static func mountProc() {
        if access("/proc/self/cmdline", F_OK) == 0 { return }
        mkdir("/proc", 0o555)
        _ = mount("proc", "/proc", "proc", UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC), nil)
    }

    /// The process's argv, as glibc passed it to the C constructors (CNodeShim process.c), else from
    /// /proc/self/cmdline. A static Swift binary takes CommandLine.arguments from /proc/self/cmdline, so it sees none
    /// as PID 1 before /proc is mounted, nor in the agent, which the init starts before switch_root and which reads
    /// them after /proc has moved into the new root.
    public static func arguments() -> [String] {
        if let arguments = constructorArguments() { return arguments }
        guard let bytes = try? FileContents.bytes(at: "/proc/self/cmdline", limit: 1 << 20) else { return [] }
        var parts = bytes.split(separator: 0, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
        if parts.last == "" { parts.removeLast() }
        return parts
    }

    /// argv as the C constructor saw it; nil when it did not run.
    public static func constructorArguments() -> [String]? {
        var count: CInt = 0
        guard let argv = nodeinit_saved_arguments(&count), count > 0 else { return nil }
        var arguments: [String] = []
        arguments.reserveCapacity(Int(count))
        for index in 0..<Int(count) {
            guard let argument = argv[index] else { break }
            arguments.append(String(cString: argument))
        }
        return arguments
    }
}

extension EarlyProcess {
    public enum HandedRoot: Equatable {
        /// No `agent --root-fd` on the command line.
        case notAsked
        /// The C constructor entered the root on the descriptor (and closed it) before the Swift runtime started.
        case entered
        /// fchdir or chroot on the descriptor failed with this errno.
        case failed(Errno)
    }

    /// What the C constructor (CNodeShim process.c) did with `agent --root-fd N`.
    public static var handedRoot: HandedRoot {
        switch nodeinit_handed_root_status() {
        case -1: .notAsked
        case 0: .entered
        case let code: .failed(Errno(rawValue: code))
        }
    }
}

/// The pipe the init hands the agent as `--ready-fd`: the agent's C constructor closes its end once it has entered
/// the new root, so the init waits milliseconds for that, not the second the agent's runtime may wait for the CRNG.
public struct ReadyPipe: ~Copyable {
    public let readEnd: FileDescriptor
    public let writeEnd: FileDescriptor
    private var writeEndOpen = true

    /// Both ends close-on-exec: only the descriptor the child gets by dup2 stays open in it.
    public init() throws(Errno) {
        var ends: [CInt] = [-1, -1]
        if nodeinit_pipe_cloexec(&ends) == -1 { throw Errno(rawValue: errno) }
        readEnd = FileDescriptor(rawValue: ends[0])
        writeEnd = FileDescriptor(rawValue: ends[1])
    }

    deinit {
        _ = close(readEnd.rawValue)
        if writeEndOpen { _ = close(writeEnd.rawValue) }
    }

    /// Closes this process's write end, then waits until every other copy is closed (EOF) or `timeoutMilliseconds`
    /// pass; true on EOF. The child's copy closes when it signals, exits or dies.
    public mutating func waitForClose(timeoutMilliseconds: Int32) -> Bool {
        if writeEndOpen { _ = close(writeEnd.rawValue) }
        writeEndOpen = false
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(timeoutMilliseconds))
        var byte: UInt8 = 0
        while true {
            guard case .success(.ready) = Waiting.wait(for: Int16(POLLIN), on: readEnd, deadline: deadline) else {
                return false
            }
            let count = read(readEnd.rawValue, &byte, 1)
            if count == 0 { return true }
            if count < 0 && errno != EINTR && errno != EAGAIN { return false }
        }
    }
}
