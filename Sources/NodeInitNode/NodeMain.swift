import NodeCommands

/// `nodeinit-node`: the node's nodeinit, packed as the initramfs /init and left at /run/nodeinit/nodeinit. The boot,
/// the shutdown and the node-side commands (agent, capture, plan, network-up), without the server-side ones, so
/// that no FoundationEssentials or swift-argument-parser weighs on every boot.
@main
enum NodeMain {
    static func main() {
        NodeEntry.main(otherwise: NodeCommands.run)
    }
}
