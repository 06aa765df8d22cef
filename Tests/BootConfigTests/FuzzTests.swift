import Testing
import TestSupport
@testable import BootConfig


/// Arbitrary inputs for every parser: raw bytes, and strings assembled from the syntax's own pieces (keys,
/// separators, quotes, brackets, addresses), which reach far deeper than random bytes alone.
struct FuzzInputs {
    var rng: SplitMix64

    static let keys = Array(KnownParameters.names).sorted() + ["nodeinit.attr.nodepos.room", "mod.param", "rw", "--", "initrd"]
    static let pieces = [
        ":", "::", ",", "=", "\"", "[", "]", "/", "-", ".", "%s", "$node", "$noderes.nfsserver", "#CMD=x#", " ", "\t",
        "\n", "10.0.0.1", "255.255.255.0", "fe80::1", "[2001:db8::1]", "52:54:00:12:34:56", "01-52-54-00-12-34-56",
        "dhcp", "none", "off", "tmpfs", "size=", "LABEL=", "UUID=", "/dev/sda", "nfs:", "nfs4:", "nfs://", "vers=3",
        "vers=4", "nolock", "ro", "link", "persistent", "con", "ALL", "\u{301}", "\u{0}", "é", "99999999999999999999",
        "-1", "0", "1", "eth0", "/install/x", "auto", "pre-pivot",
    ]

    mutating func bytes(maxLength: Int) -> [UInt8] {
        let length = Int(rng.next() % UInt64(maxLength + 1))
        return (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    }

    mutating func fragment(maxPieces: Int) -> String {
        var text = ""
        let count = Int(rng.next() % UInt64(maxPieces + 1))
        for _ in 0..<count {
            if rng.next() % 8 == 0 {
                text += String(decoding: bytes(maxLength: 4), as: UTF8.self)
            } else {
                text += Self.pieces[Int(rng.next() % UInt64(Self.pieces.count))]
            }
        }
        return text
    }

    mutating func commandLine() -> String {
        var words: [String] = []
        let count = Int(rng.next() % 8)
        for _ in 0..<count {
            let key = Self.keys[Int(rng.next() % UInt64(Self.keys.count))]
            switch rng.next() % 4 {
            case 0: words.append(key)
            case 1: words.append("\(key)=\(fragment(maxPieces: 6))")
            case 2: words.append("\"\(key)=\(fragment(maxPieces: 4))\"")
            default: words.append(fragment(maxPieces: 3))
            }
        }
        return words.joined(separator: " ")
    }

    mutating func table() -> String {
        var lines: [String] = []
        for _ in 0..<Int(rng.next() % 6) {
            var fields: [String] = []
            for _ in 0..<Int(rng.next() % 8) {
                let field = fragment(maxPieces: 3)
                fields.append(rng.next() % 2 == 0 ? "\"\(field)\"" : field)
            }
            lines.append((rng.next() % 7 == 0 ? "#" : "") + fields.joined(separator: ","))
        }
        return lines.joined(separator: "\n")
    }
}

@Suite struct FuzzTests {
    /// Runs `body`; an error must be a BootConfigError. Reaching the end at all proves nothing trapped.
    static func check(_ body: () throws -> Void) -> Bool {
        do {
            try body()
            return true
        } catch is any BootConfigError {
            return false
        } catch {
            Issue.record("error that is not a BootConfigError: \(error)")
            return false
        }
    }

    @Test func randomBytesEverywhere() {
        var inputs = FuzzInputs(rng: SplitMix64(seed: 0x6e6f_6465_696e_6974))
        var accepted = 0
        for _ in 0..<6000 {
            let raw = inputs.bytes(maxLength: 200)
            let text = String(decoding: raw, as: UTF8.self)
            let commandLine = KernelCommandLine(bytes: raw)
            if Self.check({ _ = try BootPlanner.plan(BootInputs(commandLine: commandLine)).renderText() }) { accepted += 1 }
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
            _ = Self.check { _ = try LitefileTable.merged(try LitefileTable.parse(text, file: "fuzz"), image: "i", file: "fuzz") }
            _ = Self.check { _ = try LitetreeTable.parse(text, file: "fuzz") }
            _ = Self.check { _ = try StateliteTable.parse(text, file: "fuzz") }
        }
        // Random bytes never carry a root, so nothing should be accepted; the structured test below covers acceptance.
        #expect(accepted == 0)
    }

    @Test func structuredCommandLinesAndTables() {
        var inputs = FuzzInputs(rng: SplitMix64(seed: 42))
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
