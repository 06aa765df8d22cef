import Logging
import Synchronization

/// Kernel modules loaded on a thread of their own while the boot goes on: the thread runs `work` on a copy of the
/// `ModuleLoader` (its table is immutable; the copy keeps its own list of what is loaded), at a low priority so it
/// takes the CPU when the boot waits (a link negotiating, a DHCP answer) and yields it when the boot runs.
///
/// Only the `ModuleLoader` that started it waits for it and takes its outcome (`wait()`, once); the thread touches
/// nothing else. `requestStop()` asks the work to end after the module it has in hand (switch_root hands the device
/// drivers still to load to the process that outlives the exec, `ModuleLoader.settleForSwitchRoot`). finit_module(2) may run on several threads at once: the kernel orders the loads, and one that
/// finds its module loading or loaded already returns EEXIST, which the loader counts as loaded.
public final class BackgroundModuleLoad: Sendable {
    /// What the load did and when, for the boot's timeline.
    public struct Report: Sendable, Equatable {
        public var label: String
        /// True for a load of named modules, false for device drivers found as it went.
        public var modules: Bool
        public var started: MonotonicInstant
        public var finished: MonotonicInstant
        /// Loaded by the thread (some may have been claimed from it by another load meanwhile: EEXIST).
        public var loaded: [ModuleName]
        public var failures: Int
        /// How long the caller blocked in `wait()` (0 when the thread had finished already).
        public var waitedMilliseconds: UInt64
    }

    /// What it does, for the log and the timeline ("NFS client and overlay modules").
    public let label: String
    /// The modules it loads, when known at the start; nil when it finds them as it goes (device drivers).
    public let modules: Set<ModuleName>?
    public let started: MonotonicInstant

    private struct State: Sendable {
        var outcome: ModuleLoader.Outcome?
        var finished: MonotonicInstant?
        var thread: NativeThread?
        var stopRequested = false
    }
    /// Shared with the thread (a Mutex cannot be captured by itself).
    private final class Shared: Sendable {
        let state = Mutex(State())
    }
    private let shared = Shared()

    /// Starts `work` on a new thread with the given niceness. `work` polls its argument between modules: true once
    /// `requestStop()` was called.
    init(
        label: String, modules: Set<ModuleName>?, niceness: Int32,
        work: @escaping @Sendable (_ stopRequested: @Sendable () -> Bool) -> ModuleLoader.Outcome
    ) throws(NativeThread.Error) {
        self.label = label
        self.modules = modules
        started = .now()
        let thread = try NativeThread.start(niceness: niceness) { [shared] in
            let outcome = work { shared.state.withLock { $0.stopRequested } }
            let end = MonotonicInstant.now()
            shared.state.withLock {
                $0.outcome = outcome
                $0.finished = end
            }
        }
        shared.state.withLock { $0.thread = thread }
    }

    /// Asks the work to return after the module it is loading now.
    public func requestStop() { shared.state.withLock { $0.stopRequested = true } }

    /// True once the work has returned.
    public var isFinished: Bool { shared.state.withLock { $0.finished != nil } }

    /// Waits until the work has returned, without joining the thread (another background load that must come after
    /// this one calls it; only the owner joins). Polls every 5 ms: the state sits behind a Mutex, which has no
    /// condition to wait on, and the caller is a lowest-priority thread that may wait a second or two anyway.
    public func waitUntilFinished() {
        while !isFinished { Pause.sleep(milliseconds: 5) }
    }

    /// Waits for the thread to end (joining it) and returns its outcome with the report; call it once.
    func wait() -> (ModuleLoader.Outcome, Report) {
        let waitStart = MonotonicInstant.now()
        let thread = shared.state.withLock { current -> NativeThread? in
            defer { current.thread = nil }
            return current.thread
        }
        thread?.join()
        let waited = isFinishedBefore(waitStart) ? 0 : MonotonicInstant.now().milliseconds(since: waitStart)
        let (outcome, finished) = shared.state.withLock {
            ($0.outcome ?? ModuleLoader.Outcome(), $0.finished ?? .now())
        }
        let report = Report(
            label: label, modules: modules != nil, started: started, finished: finished, loaded: outcome.loaded,
            failures: outcome.failures.count, waitedMilliseconds: waited)
        return (outcome, report)
    }

    private func isFinishedBefore(_ instant: MonotonicInstant) -> Bool {
        shared.state.withLock { $0.finished.map { $0 <= instant } ?? false }
    }
}
