import NodeSys
import Testing

/// The node's binaries take argv from the C constructor (CNodeShim process.c), since the static runtime's
/// CommandLine.arguments come from /proc/self/cmdline, which the agent has lost by the time it reads them.
@Suite struct EarlyProcessTests {
    @Test func theConstructorSawTheProcessArguments() {
        // The test runner has a /proc, so its CommandLine.arguments are the real argv to compare with.
        let saved = EarlyProcess.constructorArguments()
        #expect(saved == CommandLine.arguments)
        #expect(EarlyProcess.arguments() == CommandLine.arguments)
    }
}
