import Testing

@testable import BootConfig

/// Replies written as xcatd writes them: XML::Simple `XMLout` with `NoAttr`, keys sorted, two-space indent, one
/// `<xcatresponse>` per plugin callback (litetree.pm `showSync`: `sprintf "%s: %-13s %s"`), then `serverdone`.
enum XcatdReplies {
    static func block(_ elements: [(String, String?)]) -> String {
        var out = "<xcatresponse>\n"
        for (name, value) in elements {
            out += value.map { "  <\(name)>\($0)</\(name)>\n" } ?? "  <\(name)></\(name)>\n"
        }
        return out + "</xcatresponse>\n"
    }

    static let serverDone = block([("serverdone", nil)])

    static func litefile(_ node: String, _ entries: [(String, String)]) -> String {
        entries.map { options, path in
            let padded = options + String(repeating: " ", count: max(0, 13 - options.count))
            return block([("info", "\(node): \(padded) \(path)")])
        }.joined() + serverDone
    }

    /// A real site's litefile (xCAT's documentation example for a compute image), as xcatd sorts and fills it.
    static let computeLitefile = litefile(
        "cn01",
        [
            ("tmpfs,rw", "/etc/adjtime"), ("tmpfs,rw", "/etc/lvm/.cache"), ("link", "/etc/mtab"),
            ("tmpfs,rw", "/etc/ntp.conf"), ("tmpfs,rw", "/etc/ntp.conf.predhclient"), ("persistent", "/etc/ssh/"),
            ("tmpfs,rw", "/tmp/"), ("tmpfs,rw", "/var/"), ("tmpfs,rw", "/var/lib/dhclient/"),
        ])
}

@Suite struct XcatdProtocolTests {
    @Test func requestIsWhatRcStateliteSends() {
        #expect(
            String(decoding: XcatdProtocol.request("litefile"), as: UTF8.self)
                == "<xcatrequest><command>litefile</command></xcatrequest>\n")
        #expect(
            String(decoding: XcatdProtocol.request("litetree"), as: UTF8.self)
                == "<xcatrequest><command>litetree</command></xcatrequest>\n")
    }

    @Test func litefileReplyParsesIntoSortedRows() throws {
        let reply = try XcatdReply.parse(Array(XcatdReplies.computeLitefile.utf8))
        #expect(reply.serverDone)
        #expect(reply.responses.count == 10)
        let answer = try XcatdAnswer.from(reply, command: "litefile")
        #expect(answer.node == "cn01")
        #expect(answer.lines.first == .init(index: 1, text: "tmpfs,rw      /etc/adjtime"))
        let rows = try LitefileTable.parseXcatd(answer.tableText, file: "xcatd")
        #expect(rows.map(\.path).prefix(3) == ["/etc/adjtime", "/etc/lvm/.cache", "/etc/mtab"])
        #expect(rows.first?.option == .link)
        #expect(rows.first { $0.path == "/etc/ssh/" }?.option == .persistent)
        let merged = try LitefileTable.merged(rows, image: "rhels8-x86_64-statelite-compute", file: "xcatd")
        #expect(merged.map(\.path) == rows.map(\.path))
    }

    @Test func theMergeSortsAndAddsMtabAsXcatdWould() throws {
        // Out of order and without /etc/mtab (a server older than mergeArrays' mtab rule, or a stand-in).
        let text = XcatdReplies.litefile("n1", [("ro", "/var/b"), ("tmpfs,rw", "/etc/a"), ("tmpfs", "/var/b")])
        let answer = try XcatdAnswer.from(try XcatdReply.parse(Array(text.utf8)), command: "litefile")
        let merged = try LitefileTable.merged(
            try LitefileTable.parseXcatd(answer.tableText, file: "xcatd"), image: nil, file: "xcatd")
        #expect(merged.map(\.path) == ["/etc/a", "/etc/mtab", "/var/b"])
        // The later entry for a path wins, as in xcatd's own hash merge.
        #expect(merged.last?.option == .tmpfs)
    }

    @Test func aPathWithAColonIsKeptWhole() throws {
        // rc.statelite's `awk -F: '{print $2}'` would cut this path at the colon.
        let text = XcatdReplies.litefile("n1", [("tmpfs", "/var/lib/a:b")])
        let answer = try XcatdAnswer.from(try XcatdReply.parse(Array(text.utf8)), command: "litefile")
        #expect(try LitefileTable.parseXcatd(answer.tableText, file: "x").map(\.path) == ["/var/lib/a:b"])
    }

    @Test func entitiesAreDecoded() throws {
        let text =
            XcatdReplies.block([("info", "n1: tmpfs         /srv/a&amp;b&lt;c&gt;&quot;&#39;&#x41;")])
            + XcatdReplies.serverDone
        let answer = try XcatdAnswer.from(try XcatdReply.parse(Array(text.utf8)), command: "litefile")
        #expect(answer.lines.map(\.text) == ["tmpfs         /srv/a&b<c>\"'A"])
    }

    @Test func litetreeReplyKeepsOrderAndMountOptions() throws {
        let text =
            XcatdReplies.block([("info", "n1: 10.0.0.1:/statelite/one :vers=4.2,actimeo=1")])
            + XcatdReplies.block([("info", "n1: 10.0.0.1:/statelite/two")])
            + XcatdReplies.block([("info", "n1: /in/image")]) + XcatdReplies.serverDone
        let answer = try XcatdAnswer.from(try XcatdReply.parse(Array(text.utf8)), command: "litetree")
        let rows = LitetreeTable.merged(try LitetreeTable.parseXcatd(answer.tableText, file: "x"), image: nil)
        #expect(rows.map(\.directory) == ["10.0.0.1:/statelite/one", "10.0.0.1:/statelite/two", "/in/image"])
        #expect(rows.map(\.priority) == ["1", "2", "3"])
        #expect(rows.first?.mountOptions == ["vers=4.2", "actimeo=1"])
        #expect(rows.last?.mountOptions == [])
    }

    @Test func anEmptyLitetreeIsLegal() throws {
        let answer = try XcatdAnswer.from(
            try XcatdReply.parse(Array(XcatdReplies.serverDone.utf8)), command: "litetree")
        #expect(answer.lines.isEmpty)
        #expect(answer.node == nil)
    }

    @Test func aServiceNodeAddsXcatdsource() throws {
        let text =
            XcatdReplies.block([("info", "n1: ro            /etc/motd"), ("xcatdsource", "sn1")])
            + XcatdReplies.serverDone
        let answer = try XcatdAnswer.from(try XcatdReply.parse(Array(text.utf8)), command: "litefile")
        #expect(answer.lines.map(\.text) == ["ro            /etc/motd"])
    }

    @Test func warningsAreKept() throws {
        let text =
            XcatdReplies.block([("warning", "xCAT Version mismatch! ")])
            + XcatdReplies.block([("info", "n1: link          /etc/mtab")]) + XcatdReplies.serverDone
        let answer = try XcatdAnswer.from(try XcatdReply.parse(Array(text.utf8)), command: "litefile")
        #expect(answer.warnings == ["xCAT Version mismatch! "])
    }

    @Test func anUnknownNodeGetsTheUsageText() throws {
        // litetree.pm: no node from the reverse lookup, so usage($command, $callback, 0): an <info>, not an <error>.
        let text =
            XcatdReplies.block([("info", "Usage: litefile &lt;noderange&gt;\nexample:\n\tlitefile node1")])
            + XcatdReplies.serverDone
        let reply = try XcatdReply.parse(Array(text.utf8))
        #expect(
            throws: XcatdProtocol.Error.nodeNotRecognised(command: "litefile", usage: "Usage: litefile <noderange>")
        ) {
            try XcatdAnswer.from(reply, command: "litefile")
        }
        let message = XcatdProtocol.Error.nodeNotRecognised(command: "litefile", usage: "Usage: litefile <noderange>")
            .description
        #expect(message.contains("reverse DNS lookup"))
    }

    @Test func errorsAreTheServersRefusal() throws {
        let text =
            XcatdReplies.block([
                ("error", "cn01 does not have os, arch, or profile defined in nodetype table"), ("errorcode", "1"),
            ]) + XcatdReplies.serverDone
        let reply = try XcatdReply.parse(Array(text.utf8))
        #expect(
            throws: XcatdProtocol.Error.serverError(
                command: "litefile", messages: ["cn01 does not have os, arch, or profile defined in nodetype table"],
                code: "1")
        ) { try XcatdAnswer.from(reply, command: "litefile") }
        let denied =
            XcatdReplies.block([("error", "Permission denied for request"), ("errorcode", "1")])
            + XcatdReplies.serverDone
        #expect(throws: XcatdProtocol.Error.self) {
            try XcatdAnswer.from(try XcatdReply.parse(Array(denied.utf8)), command: "litefile")
        }
    }

    @Test func fedOneByteAtATime() throws {
        var reader = XcatdReplyReader()
        let bytes = Array(XcatdReplies.computeLitefile.utf8)
        var doneAt: Int? = nil
        for (index, byte) in bytes.enumerated() {
            try reader.feed([byte])
            if reader.isDone && doneAt == nil { doneAt = index }
        }
        // Done at the `>` of the last `</xcatresponse>`; its newline is not read.
        #expect(doneAt == bytes.count - 2)
        #expect(try reader.finish().responses.count == 10)
        #expect(reader.received == bytes.count - 1)
    }

    @Test func bytesAfterServerdoneAreNotRead() throws {
        var reader = XcatdReplyReader(limits: .init(maxBytes: XcatdReplies.serverDone.utf8.count))
        try reader.feed(Array((XcatdReplies.serverDone + String(repeating: "x", count: 5000)).utf8))
        #expect(reader.isDone)
        #expect(reader.received == XcatdReplies.serverDone.utf8.count - 1)
    }

    @Test func closedBeforeServerdone() throws {
        let text = XcatdReplies.computeLitefile
        let cut = Array(text.utf8).prefix(
            XcatdReplies.block([("info", "cn01: tmpfs,rw      /etc/adjtime")]).utf8.count + 20)
        var reader = XcatdReplyReader()
        try reader.feed(Array(cut))
        #expect(throws: XcatdProtocol.Error.closedEarly(received: cut.count, responses: 1)) { try reader.finish() }
        // Nothing at all: the same error, zero responses.
        #expect(throws: XcatdProtocol.Error.closedEarly(received: 0, responses: 0)) {
            try XcatdReplyReader().finish()
        }
    }

    @Test func limitsBoundTheReply() throws {
        let line = XcatdReplies.block([("info", "n1: tmpfs,rw      /var/" + String(repeating: "x", count: 100))])
        var reader = XcatdReplyReader(limits: .init(maxBytes: 10_000))
        #expect(throws: XcatdProtocol.Error.tooLarge(what: "bytes", limit: 10_000)) {
            for _ in 0..<1000 { try reader.feed(Array(line.utf8)) }
        }
        var few = XcatdReplyReader(limits: .init(maxResponses: 3))
        #expect(throws: XcatdProtocol.Error.tooLarge(what: "responses", limit: 3)) {
            try few.feed(Array(String(repeating: line, count: 4).utf8))
        }
        let big = XcatdReplies.block([("info", String(repeating: "y", count: 70_000))])
        #expect(throws: XcatdProtocol.Error.tooLarge(what: "bytes in one <info> element", limit: 64 << 10)) {
            try XcatdReply.parse(Array(big.utf8))
        }
        // One endless element with no closing tag is stopped by the byte limit too.
        var endless = XcatdReplyReader(limits: .init(maxBytes: 50_000))
        #expect(throws: XcatdProtocol.Error.tooLarge(what: "bytes", limit: 50_000)) {
            try endless.feed(Array("<xcatresponse>\n  <info>".utf8))
            for _ in 0..<100 { try endless.feed([UInt8](repeating: 0x61, count: 1000)) }
        }
    }

    @Test(arguments: [
        ("HTTP/1.1 400 Bad Request\r\n\r\n", "expected <xcatresponse>"),
        ("<xcatresponse>\n  <info a=\"1\">x</info>\n</xcatresponse>\n", "has attributes"),
        ("<xcatresponse>\n  <info><b>x</b></info>\n</xcatresponse>\n", "holds markup"),
        ("<xcatresponse>\n  loose text\n</xcatresponse>\n", "text outside an element"),
        ("<xcatresponse>\n  <info>x &bogus; y</info>\n</xcatresponse>\n", "unknown entity"),
        ("<xcatresponse>\n  <info>x &#0; y</info>\n</xcatresponse>\n", "bad character reference"),
        ("<xcatresponse>\n  <info>x &amp y</info>\n</xcatresponse>\n", "entity"),
        ("<xcatresponse>\n  <info>x</data>\n</xcatresponse>\n", "not closed"),
    ])
    func malformedRepliesAreRefused(reply: String, problem: String) {
        do {
            _ = try XcatdReply.parse(Array((reply + XcatdReplies.serverDone).utf8))
            Issue.record("accepted \(reply)")
        } catch {
            guard case .malformed = error else {
                Issue.record("\(error)")
                return
            }
            #expect(error.description.contains(problem), "\(error)")
        }
    }

    @Test func anInjectedLineIsRefused() throws {
        // A hostile server hiding a second entry behind a character reference for a newline.
        let text =
            XcatdReplies.block([("info", "n1: tmpfs         /tmp/a&#10;n1: tmpfs /etc/shadow")])
            + XcatdReplies.serverDone
        let reply = try XcatdReply.parse(Array(text.utf8))
        #expect(throws: XcatdProtocol.Error.self) { try XcatdAnswer.from(reply, command: "litefile") }
    }

    @Test func twoNodesInOneAnswerAreRefused() throws {
        let text =
            XcatdReplies.litefile("n1", [("tmpfs", "/a")]).replacingFirst(XcatdReplies.serverDone, with: "")
            + XcatdReplies.litefile("n2", [("tmpfs", "/b")])
        #expect(throws: XcatdProtocol.Error.mixedNodes(command: "litefile", first: "n1", other: "n2")) {
            try XcatdAnswer.from(try XcatdReply.parse(Array(text.utf8)), command: "litefile")
        }
    }

    @Test(arguments: [
        ("tmpfs         /etc/../../run/evil", ". or .."),
        ("tmpfs         relative/path", "not an absolute path"),
        ("tmpfs         /etc/a b", "whitespace"),
        ("sudo          /etc/sudoers", "unknown option"),
        ("/etc/motd", "expected `OPTIONS FILE`"),
        ("ro            /", "/ itself"),
        ("con           /etc/dir/", "only to files"),
    ])
    func hostileLitefileEntriesAreRefused(line: String, problem: String) {
        do {
            _ = try LitefileTable.parseXcatd(line, file: "xcatd 10.0.2.2:3001 litefile")
            Issue.record("accepted \(line)")
        } catch {
            #expect("\(error)".contains(problem), "\(error)")
            #expect("\(error)".hasPrefix("xcatd 10.0.2.2:3001 litefile:1: "), "\(error)")
        }
    }

    @Test(arguments: [
        ("10.0.0.1:/trees/../../etc", ". or .."),
        ("/trees/./x", ". or .."),
        ("10.0.0.1:/trees :vers=4.2 extra", "expected `[SERVER:]DIRECTORY"),
        ("10.0.0.1:/trees\u{01}", "whitespace"),
    ])
    func hostileLitetreeEntriesAreRefused(line: String, problem: String) {
        do {
            _ = try LitetreeTable.parseXcatd(line, file: "xcatd litetree")
            Issue.record("accepted \(line)")
        } catch {
            #expect("\(error)".contains(problem), "\(error)")
        }
    }

    @Test func thePlannerTakesXcatdTables() throws {
        let commandLine = KernelCommandLine(
            "root=nfs:10.0.0.1:/install/netboot/rootimg:ro STATEMNT= XCAT=10.0.0.1:3001 NODE=cn01")
        let litefile = try XcatdAnswer.from(
            try XcatdReply.parse(Array(XcatdReplies.computeLitefile.utf8)), command: "litefile")
        let plan = try BootPlanner.plan(
            BootInputs(
                commandLine: commandLine,
                litefile: .init(name: "xcatd 10.0.0.1:3001 litefile", text: litefile.tableText, format: .xcatd),
                litetree: .init(name: "xcatd 10.0.0.1:3001 litetree", text: "10.0.0.1:/trees :vers=4.2", format: .xcatd)
            ))
        #expect(plan.statelite.xcatd == XcatdPlan(server: "10.0.0.1", serverIsAddress: true, port: 3001))
        #expect(plan.statelite.entries.count == 9)
        #expect(plan.statelite.entries.first?.origin == "xcatd 10.0.0.1:3001 litefile:1")
        #expect(plan.statelite.treeMounts.map(\.mountPoint) == ["/.statelite/mnt/10.0.0.1/trees"])
        #expect(plan.steps.contains(.fetchXcatdTables))
        let load = try #require(plan.steps.firstIndex(of: .loadTables))
        #expect(plan.steps[load + 1] == .fetchXcatdTables)
    }

    @Test func caAndNameParameters() throws {
        let plan = try BootPlanner.plan(
            BootInputs(
                commandLine: KernelCommandLine(
                    "root=nfs:10.0.0.1:/img:ro XCAT=mn1.cluster.test:3001 nodeinit.xcatd_ca=/etc/xcat/ca.pem")))
        #expect(plan.statelite.xcatd?.caPath == "/etc/xcat/ca.pem")
        #expect(plan.statelite.xcatd?.serverName == "mn1.cluster.test")
        let named = try BootPlanner.plan(
            BootInputs(
                commandLine: KernelCommandLine("root=nfs:10.0.0.1:/img:ro XCAT=10.0.0.1:3001 nodeinit.xcatd_name=mn1")))
        #expect(named.statelite.xcatd?.serverName == "mn1")
        #expect(named.statelite.xcatd?.caPath == nil)
        #expect(throws: ParameterError.self) {
            try BootPlanner.plan(
                BootInputs(
                    commandLine: KernelCommandLine(
                        "root=nfs:10.0.0.1:/img:ro XCAT=10.0.0.1:3001 nodeinit.xcatd_ca=ca.pem")))
        }
        let without = try BootPlanner.plan(BootInputs(commandLine: KernelCommandLine("root=nfs:10.0.0.1:/img:ro")))
        #expect(without.statelite.xcatd == nil)
        #expect(!without.steps.contains(.fetchXcatdTables))
    }
}

extension String {
    fileprivate func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = firstRange(of: target) else { return self }
        return String(self[..<range.lowerBound]) + replacement + String(self[range.upperBound...])
    }
}
