import NodeBoot
import NodeSys
import RuntimeLayout

/// `nodeinit init`: the PID-1 boot sequence (what /init runs).
public enum InitCommand: NodeCommand {
    public static let spec = CommandSpec(name: "init", abstract: "Run the boot sequence (as PID 1 in an initramfs).")

    public static func run(_ arguments: ParsedArguments) throws -> Int32 {
        guard EarlyProcess.isPID1 else { throw arguments.invalid("init runs only as PID 1 in an initramfs") }
        boot()
    }

    static func boot(fixedHashSeed: Bool = false) -> Never {
        BootSequence.live(fixedHashSeed: fixedHashSeed).run()
    }
}

/// `nodeinit version`.
public enum VersionCommand: NodeCommand {
    public static let spec = CommandSpec(name: "version", abstract: "Print the version.")

    public static func run(_ arguments: ParsedArguments) throws -> Int32 {
        print("nodeinit \(NodeinitVersion.text)")
        return 0
    }
}
