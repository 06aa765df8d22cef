import Synchronization

/// A value computed on a thread of its own while the caller goes on: `pull` fetches a node's summary this way
/// beside the layer stream. `finished` looks without waiting; `wait()` joins the thread.
public struct ThreadedValue<Value: Sendable>: Sendable {
    public enum Error: Swift.Error, CustomStringConvertible {
        /// The thread ended without leaving a result (cannot happen unless the body's thread was cancelled).
        case noResult

        public var description: String {
            switch self {
            case .noResult: "the worker thread ended without a result"
            }
        }
    }

    private final class Slot: Sendable {
        let result = Mutex<Result<Value, any Swift.Error>?>(nil)
    }

    private let slot: Slot
    private let thread: NativeThread

    /// Starts `body` on a new thread.
    public init(_ body: @escaping @Sendable () throws -> Value) throws(NativeThread.Error) {
        let slot = Slot()
        thread = try NativeThread.start {
            let result = Result { try body() }
            slot.result.withLock { $0 = result }
        }
        self.slot = slot
    }

    /// The body's result once it has returned or thrown; nil while it runs.
    public var finished: Result<Value, any Swift.Error>? { slot.result.withLock { $0 } }

    /// Waits for the thread (call once) and returns what the body returned or threw.
    public func wait() -> Result<Value, any Swift.Error> {
        thread.join()
        return slot.result.withLock { $0 } ?? .failure(Error.noResult)
    }
}
