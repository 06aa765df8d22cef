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

    /// xcatd replies (remote data): built from XML::Simple's shapes and litefile/litetree entries, byte-mutated, fed
    /// to the reader in random chunks, then through the answer and both tables' xcatd rows. Whatever arrives, the
    /// reader keeps its bounds and every refusal is a BootConfigError.
    @Test func xcatdReplies() {
        let pieces = [
            "<xcatresponse>\n", "</xcatresponse>\n", "  <info>", "</info>\n", "  <error>", "</error>\n",
            "  <errorcode>1</errorcode>\n", "  <serverdone></serverdone>\n", "<serverdone/>",
            "  <xcatdsource>sn1</xcatdsource>\n",
            "cn01: ", "tmpfs,rw      ", "ro            ", "persistent    ", "link,con ", "/etc/motd", "/var/log/",
            "/a/../b", "10.0.0.1:/trees", " :vers=4.2", "&amp;", "&lt;", "&#10;", "&#x41;", "&bogus;",
            "Usage: litefile ",
            "<?xml version=\"1.0\"?>", "<b>", "\t", " ",
        ]
        let alphabet = Array("<>/&;#: \n".utf8) + [0, 0xff]
        let limits = XcatdReplyReader.Limits(maxBytes: 4096, maxResponses: 20, maxElementBytes: 512)
        FuzzRun.run("xcatd-replies", inputs: FuzzRun.count(100_000), minimumAccepted: 1_000, minimumRejected: 1_000) {
            random, tally in
            var text = ""
            let wellFormed = random.next() % 3 == 0
            if wellFormed {
                // Well formed, as xcatd writes it: entries then serverdone (mutated below half of the time).
                let entries = [
                    "tmpfs,rw      /etc/a", "ro            /etc/motd", "persistent    /var/log/", "10.0.0.1:/t :ro",
                ]
                for _ in 0..<Int(random.next() % 6) {
                    text += "<xcatresponse>\n  <info>cn01: \(entries[Int(random.next() % 4)])</info>\n</xcatresponse>\n"
                }
            }
            let junk = wellFormed ? (random.next() % 2 == 0 ? 0 : Int(random.next() % 10)) : Int(random.next() % 40)
            for _ in 0..<junk { text += pieces[Int(random.next() % UInt64(pieces.count))] }
            if wellFormed || random.next() % 3 == 0 {
                text += "<xcatresponse>\n  <serverdone></serverdone>\n</xcatresponse>\n"
            }
            var bytes = Array(text.utf8)
            if random.next() % 2 == 0 { bytes = random.mutate(bytes, alphabet: alphabet) }
            var reader = XcatdReplyReader(limits: limits)
            var refused = Self.refused {
                var offset = 0
                while offset < bytes.count && !reader.isDone {
                    let size = 1 + Int(random.next() % 64)
                    try reader.feed(Array(bytes[offset..<min(bytes.count, offset + size)]))
                    offset += size
                }
            }
            if reader.received > limits.maxBytes + 64 {
                Issue.record("the reader kept \(reader.received) bytes past its \(limits.maxBytes)-byte limit")
            }
            if !refused {
                refused = Self.refused {
                    let reply = try reader.finish()
                    let command = random.next() % 2 == 0 ? "litefile" : "litetree"
                    let answer = try XcatdAnswer.from(reply, command: command)
                    _ = try LitefileTable.merged(
                        try LitefileTable.parseXcatd(answer.tableText, file: "x"), image: nil, file: "x")
                    _ = LitetreeTable.merged(try LitetreeTable.parseXcatd(answer.tableText, file: "x"), image: nil)
                }
            }
            if refused { tally.rejected += 1 } else { tally.accepted += 1 }
        }
    }
}
