import TestSupport
import Testing

@testable import BootConfig

extension FuzzInputs {
    init(seed: UInt64) { self.init(rng: SplitMix64(seed: seed), keys: Self.commandLineKeys) }

    /// The command line's own parameter names plus a few that are not (module options, `--`, unknown dotted keys).
    static let commandLineKeys = FuzzInputs.commandLineKeys(known: KnownParameters.names)
}

@Suite struct FuzzTests {
    /// Runs `body`; an error must be a BootConfigError. Reaching the end at all proves nothing trapped.
    static func check(_ body: () throws -> Void) -> Bool {
        switch FuzzOutcome(refusingWith: (any BootConfigError).self, body) {
        case .accepted: return true
        case .refused: return false
        case .unexpected(let error):
            Issue.record("error that is not a BootConfigError: \(error)")
            return false
        }
    }

    @Test func randomBytesEverywhere() {
        var inputs = FuzzInputs(seed: 0x6e6f_6465_696e_6974)
        var accepted = 0
        for _ in 0..<6000 {
            let raw = inputs.bytes(maxLength: 200)
            let text = String(decoding: raw, as: UTF8.self)
            let commandLine = KernelCommandLine(bytes: raw)
            if Self.check({ _ = try BootPlanner.plan(BootInputs(commandLine: commandLine)).renderText() }) {
                accepted += 1
            }
            _ = Self.check { _ = try RootSpec.parse(KernelCommandLine("root=" + text)) }
            _ = Self.check { _ = try RootSpec.parse(KernelCommandLine("root=/dev/nfs nfsroot=" + text)) }
            var warnings: [String] = []
            _ = Self.check { _ = try NetworkSpec.parseIP(text, warnings: &warnings) }
            _ = Self.check { _ = try NetworkSpec.parseRoute(text) }
            _ = Self.check { _ = try DeviceSpec(parsing: text, parameter: "fuzz") }
            _ = IPAddress(text)
            _ = IPNetwork(text)
            _ = XcatVariables(attributes: ["a.b": "c"], nodeName: "n").substitute(text)
            _ = Self.check { _ = try TabdumpCSV.parse(text, file: "fuzz", columns: LitefileTable.columns) }
            _ = Self.check {
                _ = try LitefileTable.merged(try LitefileTable.parse(text, file: "fuzz"), image: "i", file: "fuzz")
            }
            _ = Self.check { _ = try LitetreeTable.parse(text, file: "fuzz") }
            _ = Self.check { _ = try StateliteTable.parse(text, file: "fuzz") }
        }
        // Random bytes never carry a root, so nothing should be accepted; the structured test below covers acceptance.
        #expect(accepted == 0)
    }

    @Test func structuredCommandLinesAndTables() {
        var inputs = FuzzInputs(seed: 42)
        var accepted = 0
        var rejected = 0
        for index in 0..<12000 {
            let line = (index % 3 == 0 ? "root=nfs:10.0.0.1:/img " : "") + inputs.commandLine()
            let commandLine = KernelCommandLine(line)
            let specs: [() throws -> Void] = [
                { _ = try RootSpec.parse(commandLine) }, { _ = try NetworkSpec.parse(commandLine) },
                { _ = try OverlaySpec.parse(commandLine) }, { _ = try DebugSpec.parse(commandLine) },
                { _ = try StateliteSpec.parse(commandLine) }, { _ = try NodeinitSpec.parse(commandLine) },
                { _ = try ModuleSpec.parse(commandLine) },
            ]
            for spec in specs { _ = Self.check(spec) }
            let tables = BootInputs(
                commandLine: commandLine,
                litefile: index % 2 == 0 ? .init(name: "lf", text: inputs.table()) : nil,
                litetree: index % 4 == 0 ? .init(name: "lt", text: inputs.table()) : nil,
                statelite: index % 5 == 0 ? .init(name: "sl", text: inputs.table()) : nil,
                hostName: index % 2 == 0 ? "cn1" : nil)
            var first: BootPlan? = nil
            if Self.check({ first = try BootPlanner.plan(tables) }) {
                accepted += 1
                if let first {
                    _ = first.renderText()
                    if index % 50 == 0 { #expect((try? BootPlanner.plan(tables)) == first) }
                }
            } else {
                rejected += 1
            }
        }
        // Both outcomes must really occur, or the generator is not exercising the parsers.
        #expect(accepted > 500)
        #expect(rejected > 500)
    }
}
