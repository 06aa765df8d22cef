import NodeSys
import Synchronization

/// At most one capture of each kind per client address: a second concurrent layer (or summary) request from the
/// same address gets 429 instead of doubling the load on the node. A summary may run beside a layer, since
/// `nodeinit pull` asks for both at once: the summary only feeds its progress totals, and walking the upper twice
/// in turn made the pull wait for both walks.
public final class CaptureSlots: Sendable {
    public enum Kind: String, Sendable {
        case layer
        case summary
    }

    private struct Slot: Hashable {
        var client: IPAddress
        var kind: Kind
    }

    private let busy = Mutex<Set<Slot>>([])

    public init() {}

    /// Takes the `kind` slot of `client`; false when such a capture for it is already running.
    public func acquire(_ client: IPAddress, _ kind: Kind) -> Bool {
        busy.withLock { $0.insert(Slot(client: client.unmappedIPv4, kind: kind)).inserted }
    }

    public func release(_ client: IPAddress, _ kind: Kind) {
        _ = busy.withLock { $0.remove(Slot(client: client.unmappedIPv4, kind: kind)) }
    }

    public var activeCount: Int { busy.withLock { $0.count } }
}
