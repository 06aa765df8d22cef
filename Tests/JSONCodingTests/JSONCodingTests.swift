import BootConfig
import Foundation
import JSONCoding
import OverlayCapture
import Testing

/// JSONCoding replaces Foundation's JSONEncoder/JSONDecoder in the node's code: its output must be what Foundation
/// writes (byte for byte, compact and pretty, sorted keys, unescaped slashes), and it must read what Foundation writes.
@Suite struct JSONCodingTests {
    struct Sample: Codable, Equatable {
        var name: String
        var count: Int
        var big: UInt64
        var negative: Int64
        var ratio: Double
        var flag: Bool
        var missing: String?
        var present: String?
        var list: [Int]
        var nested: [String: [String]]
        var empty: [String]
        var emptyObject: [String: Int]
    }

    static let texts = [
        "plain", "/etc/ssh/sshd_config", "quote \" backslash \\ slash /", "tab\tnew\nline\rcr", "\u{01}\u{1f}\u{7f}",
        "\u{08}\u{0c}", "é ü 日本語 🚀", "", "a\u{0}b",
    ]

    static func foundation<T: Encodable>(_ value: T, pretty: Bool) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    static var samples: [Sample] {
        texts.enumerated().map { index, text in
            Sample(
                name: text, count: index - 4, big: UInt64.max - UInt64(index), negative: Int64.min + Int64(index),
                ratio: [0.5, 1.0, 12.345, -3.25, 100.0, 0.001, 1e10, 2.5e-7, 0][index % 9], flag: index % 2 == 0,
                missing: nil, present: index % 3 == 0 ? text : nil, list: Array(0..<index),
                nested: [text: [text, "x"], "b": [], "a": ["/"]], empty: [], emptyObject: [:])
        }
    }

    @Test(arguments: [false, true])
    func writesWhatFoundationWrites(pretty: Bool) throws {
        for sample in Self.samples {
            let ours = try JSONCoding.encode(sample, pretty: pretty)
            let theirs = try Self.foundation(sample, pretty: pretty)
            #expect(String(decoding: ours, as: UTF8.self) == String(decoding: theirs, as: UTF8.self))
            #expect(try JSONCoding.decode(Sample.self, from: theirs) == sample)
            #expect(try JSONDecoder().decode(Sample.self, from: Data(ours)) == sample)
        }
    }

    /// Boot plans from real command lines (xCAT statelite, dracut, WalT, bonds): `nodeinit plan --json` output.
    @Test(arguments: [
        "NFSROOT=10.0.0.1:/install/netboot/rhels9/x86_64/compute STATEMNT=10.0.0.1:/statelite XCAT=10.0.0.1:3001 NODE=cn01 ip=dhcp",
        "root=nfs:192.168.1.1:/srv/images/debian12,vers=4.2 rd.live.overlay=LABEL=persist:/overlay ip=eth0:dhcp rd.shell",
        "root=/dev/nfs nfsroot=10.0.2.2:/srv/walt,ro,vers=3,nolock boot=walt walt.server.ip=10.0.2.2 init=/bin/walt-init ip=10.0.2.15:10.0.2.2:10.0.2.2:255.255.255.0:walt-node-12::off",
        "root=nfs:10.0.2.2:/img bond=bond0:eth0,eth1:mode=active-backup,primary=eth1 ip=bond0:dhcp vlan=eth2.5:eth2 rd.break=pre-pivot",
    ])
    func bootPlansMatchFoundation(_ commandLine: String) throws {
        let plan = try BootPlanner.plan(BootInputs(commandLine: KernelCommandLine(commandLine)))
        for pretty in [false, true] {
            let ours = try JSONCoding.encode(plan, pretty: pretty)
            #expect(ours == (try Self.foundation(plan, pretty: pretty)))
            #expect(try JSONCoding.decode(BootPlan.self, from: ours) == plan)
        }
    }

    @Test func captureSummaryWithNonUTF8NamesRoundTrips() throws {
        var summary = CaptureSummary()
        summary.regularFiles.count = 3
        summary.regularFiles.bytes = 1 << 40
        summary.skipped = []
        summary.exclusionPatterns = ["/var/cache/*", "/tmp"]
        summary.changedWhileReading = ["/etc/\\xff"]
        summary.changedWhileReadingBase64 = ["L2V0Yy//"]
        let ours = try JSONCoding.encode(summary, pretty: true)
        #expect(ours == (try Self.foundation(summary, pretty: true)))
        #expect(try JSONCoding.decode(CaptureSummary.self, from: ours) == summary)
        #expect(CaptureSummary.decode(path: "x", pathBase64: "L2V0Yy//")?.bytes == Array("/etc/".utf8) + [0xff])
    }

    @Test func readsEscapesAndSurrogatePairs() throws {
        let value = try JSONParser().parse(#"{"a":"\u00e9\ud83d\ude80\/\b\f\n\r\t\"\\","b":[1,-0.5e3,true,false,null]}"#)
        #expect(value["a"] == .string("é🚀/\u{08}\u{0c}\n\r\t\"\\"))
        #expect(value["b"] == .array([.number("1"), .number("-0.5e3"), .bool(true), .bool(false), .null]))
    }

    @Test(arguments: [
        ("", "expected a value, found the end"), ("{", "expected a member name"), ("[1,]", "expected a value"),
        ("{\"a\" 1}", "':' after a member name"), ("\"abc", "unterminated string"), ("01", "unexpected text"),
        ("1.", "digit after '.'"), ("-", "expected a digit"), ("\"\\ud800\"", "unpaired surrogate"),
        ("\"\\x\"", "unknown escape"), ("\"a\nb\"", "control character"), ("tru", "expected true"),
        ("{} {}", "unexpected text after the document"),
    ])
    func malformedTextIsRefusedWithTheReason(_ text: String, _ reason: String) {
        do {
            _ = try JSONParser().parse(text)
            Issue.record("accepted \(text.debugDescription)")
        } catch {
            #expect(error.description.contains(reason), "\(error)")
        }
    }

    @Test func invalidUTF8InAStringIsRefused() {
        #expect(throws: JSONParser.Error.self) { try JSONParser().parse([0x22, 0xff, 0xfe, 0x22]) }
    }

    @Test func depthAndSizeAreBounded() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParser.Error.tooDeep(offset: 256, limit: 256)) { try JSONParser().parse(deep) }
        #expect(throws: JSONParser.Error.tooLarge(size: 11, limit: 10)) {
            try JSONParser(maximumBytes: 10).parse("[1,2,3,4,5]")
        }
        #expect(try JSONParser(maximumDepth: 3).parse("[[1]]") == .array([.array([.number("1")])]))
    }

    @Test func numbersOutOfRangeAreErrorsNotWrappedValues() throws {
        struct Small: Decodable { var value: UInt8 }
        struct Wide: Decodable { var value: Int64 }
        #expect(throws: DecodingError.self) { try JSONCoding.decode(Small.self, from: Array(#"{"value":256}"#.utf8)) }
        #expect(throws: DecodingError.self) { try JSONCoding.decode(Small.self, from: Array(#"{"value":-1}"#.utf8)) }
        #expect(throws: DecodingError.self) {
            try JSONCoding.decode(Wide.self, from: Array(#"{"value":9223372036854775808}"#.utf8))
        }
        #expect(try JSONCoding.decode(Wide.self, from: Array(#"{"value":1e3}"#.utf8)).value == 1000)
        #expect(throws: DecodingError.self) { try JSONCoding.decode(Wide.self, from: Array(#"{"value":"1"}"#.utf8)) }
        #expect(throws: DecodingError.self) { try JSONCoding.decode(Wide.self, from: Array(#"{"other":1}"#.utf8)) }
    }

    @Test func nonFiniteDoublesAreRefused() {
        struct Holder: Encodable { var value: Double }
        #expect(throws: EncodingError.self) { try JSONCoding.encode(Holder(value: .nan)) }
        #expect(throws: EncodingError.self) { try JSONCoding.encode(Holder(value: .infinity)) }
    }
}
