import Glibc
import SystemPackage

/// A POSIX thread running a closure. Foundation's `Thread` would pull the whole of Foundation into
/// the static /init; a pthread costs nothing extra.
public struct NativeThread: @unchecked Sendable {
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        /// pthread_create returns the errno value instead of setting errno.
        case create(Errno)
        public var description: String {
            switch self {
            case .create(let e): "cannot start a thread: pthread_create returned \(e.rawValue)"
            }
        }
    }

    private let handle: pthread_t

    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    /// Starts `body` on a new thread that must be joined with `join()`. A `niceness` (0...19) lowers the new
    /// thread's scheduling priority alone (Linux keeps a nice value per thread): such a thread runs when the others
    /// wait, and yields to them when they are runnable.
    public static func start(niceness: Int32? = nil, _ body: @escaping @Sendable () -> Void) throws(Error)
        -> NativeThread
    {
        let run: @Sendable () -> Void
        if let niceness {
            run = {
                // PRIO_PROCESS with id 0 is the calling thread on Linux. A refusal leaves the default priority.
                _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness)
                body()
            }
        } else {
            run = body
        }
        let context = Unmanaged.passRetained(Body(run)).toOpaque()
        var handle = pthread_t()
        let code = pthread_create(
            &handle, nil,
            { context in
                guard let context else { return nil }
                Unmanaged<Body>.fromOpaque(context).takeRetainedValue().run()
                return nil
            }, context)
        if code != 0 {
            Unmanaged<Body>.fromOpaque(context).release()
            throw .create(Errno(rawValue: code))
        }
        return NativeThread(handle: handle)
    }

    /// Starts `body` on a detached thread: its resources go back to the system when it returns.
    public static func detach(_ body: @escaping @Sendable () -> Void) throws(Error) {
        let thread = try start(body)
        pthread_detach(thread.handle)
    }

    /// Waits for the thread to finish.
    public func join() {
        pthread_join(handle, nil)
    }
}
