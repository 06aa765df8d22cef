import NodeCommands

/// `nodeinit`, the full command: the node-side commands (the same code as the node's `nodeinit-node`) and the
/// server-side ones (pull, save, apply, initramfs) on swift-argument-parser. It still boots as `/init` too.
@main
enum EntryPoint {
    static func main() {
        NodeEntry.main { arguments in
            if let name = arguments.first, NodeCommands.command(named: name) != nil {
                NodeCommands.run(arguments)
            }
            NodeInitCommand.runWithWholeMessages(arguments)
        }
    }
}
