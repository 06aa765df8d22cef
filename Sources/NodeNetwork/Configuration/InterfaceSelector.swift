import NodeSys

/// Picks the interface to configure from the kernel's link list (pure, so the rules are unit-tested).
public enum InterfaceSelector {
    public enum Outcome: Sendable, Hashable {
        case chosen(NetworkLink)
        /// No link matches yet; the caller waits (drivers may still be probing) and asks again.
        case notYet
    }

    /// BOOTIF MAC first, then the named interface; without either, the first non-loopback link with carrier (in
    /// index order). Loopback links never qualify, nor do links enslaved to a bond or bridge (a bond's slaves share
    /// its MAC, and their traffic is the master's).
    public static func choose(from links: [NetworkLink], selection: InterfaceSelection) -> Outcome {
        let candidates = links.filter { !$0.isLoopback && $0.masterIndex == nil }
        if let mac = selection.bootMAC {
            let wanted = mac.bytes
            if let link = candidates.first(where: { $0.macAddress?.bytes == wanted }) { return .chosen(link) }
            return .notYet
        }
        if let name = selection.interfaceName {
            if let link = candidates.first(where: { $0.name == name }) { return .chosen(link) }
            return .notYet
        }
        if let link = candidates.first(where: { $0.hasCarrier }) { return .chosen(link) }
        return .notYet
    }
}
