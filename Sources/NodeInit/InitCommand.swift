import ArgumentParser
import NodeBoot
import NodeSys

/// `nodeinit init`: the PID-1 boot sequence (what /init runs).
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Run the boot sequence (as PID 1 in an initramfs).")

    func run() throws {
        guard EarlyProcess.isPID1 else {
            throw ValidationError("init runs only as PID 1 in an initramfs")
        }
        Self.boot()
    }

    static func boot(fixedHashSeed: Bool = false) -> Never {
        BootSequence.live(fixedHashSeed: fixedHashSeed).run()
    }
}
