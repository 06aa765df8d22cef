import TestSupport
import Testing

@testable import BootConfig

/// The kernel command line (admin-written, but also whatever a DHCP/PXE setup passes) through every spec and
/// the planner, and the xCAT tables read over NFS. Inputs are built by `FuzzInputs` from the syntax's pieces
/// (shared with BootConfigTests' smaller fuzz tests), then byte-mutated.
@Suite struct ConfigFuzzTests {
    static let keys = FuzzInputs.commandLineKeys(known: KnownParameters.names)
    static let alphabet: [UInt8] = Array("=:,\"[]/ .-\t\n#".utf8) + [0, 0xff, 0xc3]

    /// An error from these parsers must be a BootConfigError (a clear message for the console), never another.
    static func refused(_ body: () throws -> Void) -> Bool {
        switch FuzzOutcome(refusingWith: (any BootConfigError).self, body) {
        case .accepted: return false
        case .refused: return true
        case .unexpected(let error):
            Issue.record("error that is not a BootConfigError: \(error)")
            return true
        }
    }

    @Test func commandLineSpecs() {
        var inputs = FuzzInputs(rng: FuzzRun.generator("cmdline-specs"), keys: Self.keys)
        FuzzRun.run("cmdline", inputs: FuzzRun.count(100_000), minimumAccepted: 1_000, minimumRejected: 1_000) {
            random, tally in
            var bytes = Array(inputs.commandLine().utf8)
            if random.next() % 2 == 0 { bytes = random.mutate(bytes, alphabet: Self.alphabet) }
            let line = KernelCommandLine(bytes: bytes)
            let specs: [() throws -> Void] = [
                { _ = try RootSpec.parse(line) }, { _ = try NetworkSpec.parse(line) },
                { _ = try OverlaySpec.parse(line) },
                { _ = try DebugSpec.parse(line) }, { _ = try StateliteSpec.parse(line) },
                { _ = try NodeinitSpec.parse(line) }, { _ = try ModuleSpec.parse(line) },
            ]
            // Counted per spec: one line feeds seven parsers.
            for spec in specs {
                if Self.refused(spec) { tally.rejected += 1 } else { tally.accepted += 1 }
            }
        }
    }

    @Test func plannerWithTables() {
        var inputs = FuzzInputs(rng: FuzzRun.generator("planner-inputs"), keys: Self.keys)
        FuzzRun.run("planner", inputs: FuzzRun.count(20_000), minimumAccepted: 500, minimumRejected: 1_000) {
            random, tally in
            var line = (random.next() % 3 == 0 ? "root=nfs:10.0.0.1:/img " : "") + inputs.commandLine()
            if random.next() % 4 == 0 {
                line = String(decoding: random.mutate(Array(line.utf8), alphabet: Self.alphabet), as: UTF8.self)
            }
            let tables = BootInputs(
                commandLine: KernelCommandLine(line),
                litefile: random.next() % 2 == 0 ? .init(name: "lf", text: inputs.table()) : nil,
                litetree: random.next() % 4 == 0 ? .init(name: "lt", text: inputs.table()) : nil,
                statelite: random.next() % 5 == 0 ? .init(name: "sl", text: inputs.table()) : nil,
                hostName: random.next() % 2 == 0 ? "cn1" : nil)
            var plan: BootPlan?
            if Self.refused({ plan = try BootPlanner.plan(tables) }) {
                tally.rejected += 1
                return
            }
            tally.accepted += 1
            guard let plan else { return }
            // Rendering works and planning is a function of its inputs.
            let text = plan.renderText()
            if random.next() % 16 == 0 {
                if (try? BootPlanner.plan(tables))?.renderText() != text {
                    Issue.record("planning is not deterministic: \(line)")
                }
                tally.roundTrips += 1
            }
        }
    }

    @Test func xcatTables() {
        var inputs = FuzzInputs(rng: FuzzRun.generator("tables-inputs"), keys: Self.keys)
        FuzzRun.run("xcat-tables", inputs: FuzzRun.count(50_000), minimumAccepted: 1_000, minimumRejected: 1_000) {
            random, tally in
            var text = "#" + LitefileTable.columns.joined(separator: ",") + "\n" + inputs.table()
            if random.next() % 2 == 0 {
                text = String(decoding: random.mutate(Array(text.utf8), alphabet: Self.alphabet), as: UTF8.self)
            }
            var refused = false
            refused =
                Self.refused { _ = try TabdumpCSV.parse(text, file: "fuzz", columns: LitefileTable.columns) } || refused
            refused =
                Self.refused {
                    _ = try LitefileTable.merged(try LitefileTable.parse(text, file: "fuzz"), image: "i", file: "fuzz")
                } || refused
            refused =
                Self.refused { _ = LitetreeTable.merged(try LitetreeTable.parse(text, file: "fuzz"), image: "i") }
                || refused
            refused = Self.refused { _ = try StateliteTable.parse(text, file: "fuzz") } || refused
            if refused { tally.rejected += 1 } else { tally.accepted += 1 }
        }
    }
}
