import NodeSys
import Synchronization

/// At most one capture per client address: a second concurrent request from the same address gets
/// 429 instead of doubling the load on the node.
public final class CaptureSlots: Sendable {
    private let busy = Mutex<Set<IPAddress>>([])

    public init() {}

    /// Takes the slot of `client`; false when a capture for it is already running.
    public func acquire(_ client: IPAddress) -> Bool {
        busy.withLock { $0.insert(client.unmappedIPv4).inserted }
    }

    public func release(_ client: IPAddress) {
        _ = busy.withLock { $0.remove(client.unmappedIPv4) }
    }

    public var activeCount: Int { busy.withLock { $0.count } }
}
