import Synchronization

/// Caps the log lines strangers can cause (denials, malformed requests): the agent's log lives on a
/// tmpfs, in the node's RAM, and a scan or a flood must not fill it. Up to `burst` lines per
/// `window`; the rest are counted and the count is reported with the next line let through.
public final class LogThrottle: Sendable {
    private struct State {
        var windowStart: ContinuousClock.Instant
        var linesInWindow = 0
        var suppressed = 0
    }

    private let state: Mutex<State>
    private let burst: Int
    private let window: Duration

    public init(burst: Int = 20, window: Duration = .seconds(10)) {
        self.burst = burst
        self.window = window
        state = Mutex(State(windowStart: .now))
    }

    /// nil: drop this line. Otherwise the line to log, noting how many were dropped before it.
    public func admit(_ line: String, now: ContinuousClock.Instant = .now) -> String? {
        state.withLock { state in
            if now - state.windowStart >= window {
                state.windowStart = now
                state.linesInWindow = 0
            }
            guard state.linesInWindow < burst else {
                state.suppressed += 1
                return nil
            }
            state.linesInWindow += 1
            defer { state.suppressed = 0 }
            return state.suppressed == 0
                ? line : "\(line) (\(state.suppressed) similar lines suppressed before this one)"
        }
    }
}
