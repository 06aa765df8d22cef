import BootConfig
import Foundation
import Glibc
import Logging
import NodeSys
import TLSClient
import TestSupport
import Testing

@testable import NodeBoot

/// The xcatd client against a loopback stand-in written from xcatd's protocol (`Tests/System/harness/xcatd.py`,
/// Python `ssl`), with certificates the test makes with the `openssl` command: a site CA, xcatd's certificate signed
/// by it (CN=mn1, DNS:mn1.cluster.test, DNS:mn1, as xCAT's setup-server-cert.sh makes it) and an unrelated CA.
/// Everything listens on 127.0.0.1; each test stops its stand-in by pid and removes its directory.
@Suite(.serialized) struct XcatdClientTests {
    static let litefile = """
        #image,file,options,comments,disable
        "ALL","/etc/motd","ro",,
        "","/etc/fstab",,,
        "ALL","/var/log/","tmpfs",,
        "rhels8.8-x86_64-statelite-compute","/var/log/","persistent",,
        "ALL","/var/log/messages","persistent",,
        "other-image","/etc/shadow","tmpfs",,
        "ALL","/srv/a&b","tmpfs",,
        """
    static let litetree = """
        #priority,image,directory,mntopts,comments,disable
        "10","ALL","10.0.0.1:/statelite/two",,,
        "2","ALL","10.0.0.1:/statelite/one","vers=4.2,actimeo=1",,
        "2","rhels8.8-x86_64-statelite-compute","10.0.0.1:/statelite/image",,,
        """

    @Test func normalLitefileAndLitetreeVerifiedAgainstTheImagesCA() throws {
        let site = try XcatdSite("normal")
        defer { site.cleanup() }
        try site.putCA(at: "/xcatpost/_xcat/ca.pem")
        try site.start()
        let log = StateliteLog()
        let fetched = try site.client().fetch(litefile: true, litetree: true, log: log)
        #expect(fetched.node == "cn01")
        #expect(fetched.verification == "verified against /xcatpost/_xcat/ca.pem")
        // xcatd's merge: '' then ALL then the image, later wins; blank is tmpfs,rw; /etc/mtab added; sorted.
        #expect(
            fetched.litefile?.text.split(separator: "\n").map(String.init) == [
                "tmpfs,rw      /etc/fstab", "ro            /etc/motd", "link          /etc/mtab",
                "tmpfs         /srv/a&b", "persistent    /var/log/", "persistent    /var/log/messages",
            ])
        #expect(fetched.litefile?.name == "xcatd 127.0.0.1:\(site.port) litefile")
        // Priorities numerically; the image's row 2 replaces ALL's row 2; mount options kept.
        #expect(fetched.litetree?.text == "10.0.0.1:/statelite/image\n10.0.0.1:/statelite/two")
        // Exactly what rc.statelite sends, one connection per command.
        #expect(
            site.requests() == [
                "<xcatrequest><command>litefile</command></xcatrequest>\n",
                "<xcatrequest><command>litetree</command></xcatrequest>\n",
            ])
        #expect(
            log.lines.contains { $0.contains("verifying its certificate against the image's /xcatpost/_xcat/ca.pem") })
        #expect(!log.lines.contains { $0.contains("UNVERIFIED") })
        #expect(log.lines.contains { $0.contains("certificate CN=mn1 verified") }, "\(log.lines)")

        // Planned as the boot plans them.
        let plan = try LoadTablesStep.plan(
            with: StateliteTables.Loaded(litefile: fetched.litefile, litetree: fetched.litetree),
            commandLine: KernelCommandLine(
                "root=nfs:10.0.0.1:/install/netboot/rootimg:ro STATEMNT= XCAT=127.0.0.1:\(site.port) NODE=cn01"),
            plan: try BootPlanner.plan(BootInputs(commandLine: KernelCommandLine("root=nfs:10.0.0.1:/img:ro"))),
            hostName: nil, log: log)
        #expect(
            plan.statelite.entries.map(\.path) == [
                "/etc/fstab", "/etc/motd", "/etc/mtab", "/srv/a&b", "/var/log/", "/var/log/messages",
            ])
        #expect(plan.statelite.entries.first { $0.path == "/var/log/messages" }?.parent == "/var/log/")
        #expect(
            plan.statelite.treeMounts.map(\.mountPoint) == [
                "/.statelite/mnt/10.0.0.1/statelite/image", "/.statelite/mnt/10.0.0.1/statelite/two",
            ])
    }

    @Test func theNamedCAAndServerNameAreChecked() throws {
        let site = try XcatdSite("named")
        defer { site.cleanup() }
        try site.putCA(at: "/etc/site/ca.pem")
        try site.start()
        var plan = site.plan
        plan.caPath = "/etc/site/ca.pem"
        plan.serverName = "mn1.cluster.test"
        let fetched = try site.client(plan).fetch(litefile: true, litetree: false, log: StateliteLog())
        #expect(fetched.verification == "verified against /etc/site/ca.pem")
        #expect(fetched.litetree == nil)
        #expect(site.requests().count == 1)

        plan.serverName = "evil.example"
        let pauses = PauseRecorder()
        let error = try #require(throws: StateliteError.self) {
            try site.client(plan, pauses: pauses).fetch(litefile: true, litetree: false, log: StateliteLog())
        }
        #expect("\(error)".contains("does not verify against /etc/site/ca.pem"), "\(error)")
        #expect("\(error)".lowercased().contains("cn"), "\(error)")
        #expect(pauses.pauses.isEmpty, "an untrusted server is not retried")

        // A named CA that is not in the image is an error, never a fallback to an unverified session.
        plan.caPath = "/etc/site/missing.pem"
        let missing = try #require(throws: StateliteError.self) {
            try site.client(plan).fetch(litefile: true, litetree: false, log: StateliteLog())
        }
        #expect("\(missing)".contains("cannot read the CA certificate /etc/site/missing.pem"), "\(missing)")
    }

    @Test func aServerTheCADidNotSignIsRefused() throws {
        let site = try XcatdSite("mismatch")
        defer { site.cleanup() }
        try site.putCA(at: "/etc/xcat/cert/ca.pem", other: true)
        try site.start()
        let pauses = PauseRecorder()
        let log = StateliteLog()
        let error = try #require(throws: StateliteError.self) {
            try site.client(pauses: pauses).fetch(litefile: true, litetree: true, log: log)
        }
        #expect("\(error)".contains("does not verify against /etc/xcat/cert/ca.pem"), "\(error)")
        #expect("\(error)".contains("CN=mn1"), "\(error)")
        #expect(pauses.pauses.isEmpty)
        #expect(site.requests().isEmpty, "no request went to a server that failed verification")
    }

    @Test func withoutACATheSessionIsUnverifiedAndSaysSoLoudly() throws {
        let site = try XcatdSite("unverified")
        defer { site.cleanup() }
        try site.start()
        var console: [(Logger.Level, String)] = []
        let log = StateliteLog { level, line in console.append((level, line)) }
        let fetched = try site.client().fetch(litefile: true, litetree: true, log: log)
        #expect(fetched.verification == "UNVERIFIED (no CA)")
        #expect(fetched.litefile?.text.contains("/etc/motd") == true)
        #expect(
            log.lines.contains { $0.contains("WARNING xcatd 127.0.0.1:\(site.port): UNVERIFIED TLS") }, "\(log.lines)")
        #expect(console.contains { $0.0 == .warning && $0.1.contains("UNVERIFIED TLS") })
        #expect(log.lines.contains { $0.contains("NOT verified") })
    }

    @Test func aNodeTheReverseLookupCannotNameIsReportedClearly() throws {
        let site = try XcatdSite("nodns")
        defer { site.cleanup() }
        try site.start(reverseLookup: false)
        let pauses = PauseRecorder()
        let error = try #require(throws: StateliteError.self) {
            try site.client(pauses: pauses).fetch(litefile: true, litetree: true, log: StateliteLog())
        }
        #expect("\(error)".contains("xcatd did not recognise this node for litefile"), "\(error)")
        #expect("\(error)".contains("reverse DNS lookup"), "\(error)")
        #expect("\(error)".contains("Usage: litefile <noderange>"), "\(error)")
        #expect(pauses.pauses.isEmpty)
    }

    @Test func aNodeWithoutAnImageGetsXcatdsError() throws {
        let site = try XcatdSite("noimage")
        defer { site.cleanup() }
        try site.start(nodeType: "cn01=rhels8.8,x86_64")
        let error = try #require(throws: StateliteError.self) {
            try site.client().fetch(litefile: true, litetree: true, log: StateliteLog())
        }
        #expect(
            "\(error)".contains("cn01 does not have os, arch, or profile defined in nodetype table")
                && "\(error)".contains("errorcode 1"), "\(error)")
    }

    @Test func aServerThatClosesMidReplyIsRetriedWithPauses() throws {
        let site = try XcatdSite("midreply")
        defer { site.cleanup() }
        try site.start(extra: ["--close-mid-reply", "2"])
        var plan = site.plan
        plan.attempts = 4
        let pauses = PauseRecorder()
        let log = StateliteLog()
        let fetched = try site.client(plan, pauses: pauses).fetch(litefile: true, litetree: false, log: log)
        #expect(fetched.litefile?.text.contains("/etc/motd") == true)
        #expect(pauses.pauses.count == 2)
        #expect(pauses.pauses.allSatisfy { $0 >= 0 && $0 <= 49_000 && $0 % 1000 == 0 }, "\(pauses.pauses)")
        let warnings = log.lines.filter {
            $0.contains("WARNING") && $0.contains("closed the connection before <serverdone>")
        }
        #expect(warnings.count == 2, "\(log.lines)")
        #expect(warnings.first?.contains("attempt 1 of 4") == true)

        // Every connection cut: the attempts run out with each one's reason.
        let always = try XcatdSite("midreply-always")
        defer { always.cleanup() }
        try always.start(extra: ["--close-mid-reply", "99"])
        var short = always.plan
        short.attempts = 3
        let recorder = PauseRecorder()
        let error = try #require(throws: StateliteError.self) {
            try always.client(short, pauses: recorder).fetch(litefile: true, litetree: false, log: StateliteLog())
        }
        #expect("\(error)".contains("litefile: no answer after 3 attempts"), "\(error)")
        #expect("\(error)".contains("attempt 3: xcatd closed the connection before <serverdone>"), "\(error)")
        #expect(recorder.pauses.count == 2)
    }

    @Test func nothingListeningIsRetriedThenFails() throws {
        let site = try XcatdSite("closed")
        defer { site.cleanup() }
        // A port nobody listens on: the stand-in's, once it is stopped.
        try site.start()
        let port = site.port
        if let pid = site.pid { TestProcess.stop(pid) }
        site.pid = nil
        var plan = XcatdPlan(
            server: "127.0.0.1", serverIsAddress: true, port: Int(port), attempts: 2, maxPauseSeconds: 0)
        plan.timeoutSeconds = 2
        let recorder = PauseRecorder()
        let error = try #require(throws: StateliteError.self) {
            try site.client(plan, pauses: recorder).fetch(litefile: true, litetree: false, log: StateliteLog())
        }
        #expect("\(error)".contains("cannot connect to 127.0.0.1:\(port)"), "\(error)")
        #expect(recorder.pauses == [0])
    }

    @Test func hostilePathsInTheReplyAreRefusedByTheTableRules() throws {
        let site = try XcatdSite("hostile")
        defer { site.cleanup() }
        try site.start(
            litefile: """
                "ALL","/etc/motd","ro",,
                "ALL","/etc/../../run/nodeinit/evil","tmpfs",,
                """,
            litetree: """
                "1","ALL","10.0.0.1:/trees/../../../etc",,,
                """)
        let log = StateliteLog()
        let fetched = try site.client().fetch(litefile: true, litetree: true, log: log)
        let commandLine = KernelCommandLine("root=nfs:10.0.0.1:/img:ro STATEMNT= XCAT=127.0.0.1:\(site.port)")
        let base = try BootPlanner.plan(BootInputs(commandLine: commandLine))
        let litefileError = try #require(throws: StateliteError.self) {
            try LoadTablesStep.plan(
                with: StateliteTables.Loaded(litefile: fetched.litefile), commandLine: commandLine, plan: base,
                hostName: nil, log: log)
        }
        #expect(
            "\(litefileError)".contains(
                "xcatd 127.0.0.1:\(site.port) litefile:1: \"/etc/../../run/nodeinit/evil\" has empty, . or .. components"
            ),
            "\(litefileError)")
        let litetreeError = try #require(throws: StateliteError.self) {
            try LoadTablesStep.plan(
                with: StateliteTables.Loaded(litetree: fetched.litetree), commandLine: commandLine, plan: base,
                hostName: nil, log: log)
        }
        #expect("\(litetreeError)".contains("has . or .. components"), "\(litetreeError)")

        // A reply that hides a second entry behind &#10; is refused before any table is built.
        let sneaky = site.directory.sub("sneaky.xml")
        try write(
            sneaky,
            "<xcatresponse>\n  <info>cn01: tmpfs         /tmp/a&#10;cn01: tmpfs /etc/shadow</info>\n</xcatresponse>\n"
                + "<xcatresponse>\n  <serverdone></serverdone>\n</xcatresponse>\n")
        let raw = try XcatdSite("hostile-raw")
        defer { raw.cleanup() }
        try raw.start(extra: ["--reply-file", sneaky])
        let injected = try #require(throws: StateliteError.self) {
            try raw.client().fetch(litefile: true, litetree: false, log: StateliteLog())
        }
        #expect("\(injected)".contains("a control character"), "\(injected)")
    }

    @Test func anOversizedReplyIsCutAtTheLimit() throws {
        let site = try XcatdSite("oversized")
        defer { site.cleanup() }
        try site.start(extra: ["--oversized", String(8 << 20)])
        let pauses = PauseRecorder()
        var client = site.client(pauses: pauses)
        client.limits = XcatdReplyReader.Limits(maxBytes: 256 << 10)
        let error = try #require(throws: StateliteError.self) {
            try client.fetch(litefile: true, litetree: false, log: StateliteLog())
        }
        #expect("\(error)".contains("the xcatd reply is too large: more than 262144 bytes"), "\(error)")
        #expect(pauses.pauses.isEmpty, "an oversized reply is not asked for again")
        // The default bound (4 MiB) holds too.
        let whole = try #require(throws: StateliteError.self) {
            try site.client(pauses: pauses).fetch(litefile: true, litetree: false, log: StateliteLog())
        }
        #expect("\(whole)".contains("more than 4194304 bytes"), "\(whole)")
    }
}

/// Records the pauses between attempts instead of sleeping.
final class PauseRecorder: @unchecked Sendable {
    var pauses: [Int64] = []
}

/// One test's xcatd: its directory (certificates, tables, the image root holding the CA), the stand-in's pid and port.
final class XcatdSite {
    let directory: ScratchDirectory
    var pid: pid_t?
    var port = 0
    var image: String { directory.sub("image") }

    static let script: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        parts.removeLast(2)  // StateliteTests/XcatdClientTests.swift
        return parts.joined(separator: "/") + "/System/harness/xcatd.py"
    }()

    init(_ name: String) throws {
        directory = try ScratchDirectory("xcatd-\(name)")
        try FileManager.default.createDirectory(atPath: image, withIntermediateDirectories: true)
        try makeCertificates()
    }

    var plan: XcatdPlan { XcatdPlan(server: "127.0.0.1", serverIsAddress: true, port: port, maxPauseSeconds: 0) }

    func client(_ plan: XcatdPlan? = nil, pauses: PauseRecorder = PauseRecorder()) -> XcatdTables {
        let root = try? ConfinedTree(image)
        return XcatdTables(
            plan: plan ?? self.plan, address: IPAddress("127.0.0.1") ?? .anyIPv4, imageRoot: root, seed: 42,
            pause: { pauses.pauses.append($0) })
    }

    func openssl(_ arguments: [String]) throws {
        _ = try ChildCommand.output(["openssl"] + arguments)
    }

    func makeCertificates() throws {
        let d = directory.path
        for ca in ["ca", "other-ca"] {
            try openssl([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(d)/\(ca).key", "-out", "\(d)/\(ca).pem",
                "-days", "3650", "-subj", "/CN=xCAT CA", "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=keyCertSign,cRLSign",
            ])
        }
        try openssl([
            "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(d)/server.key", "-out", "\(d)/server.csr", "-subj",
            "/CN=mn1",
        ])
        // setup-server-cert.sh's `-extensions server -extensions san_env`.
        try write(
            "\(d)/ext.cnf",
            "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyAgreement,keyEncipherment\n"
                + "extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:mn1.cluster.test,DNS:mn1\n")
        try openssl([
            "x509", "-req", "-in", "\(d)/server.csr", "-CA", "\(d)/ca.pem", "-CAkey", "\(d)/ca.key", "-CAcreateserial",
            "-out", "\(d)/server.pem", "-days", "3650", "-extfile", "\(d)/ext.cnf",
        ])
    }

    /// Puts the site's CA (or the unrelated one) at `path` in the image.
    func putCA(at path: String, other: Bool = false) throws {
        let pem = try String(contentsOfFile: directory.sub(other ? "other-ca.pem" : "ca.pem"), encoding: .utf8)
        try write(image + path, pem)
    }

    /// Starts the stand-in and waits for its port. `reverseLookup: false` leaves 127.0.0.1 without a name.
    func start(
        reverseLookup: Bool = true, nodeType: String = "cn01=rhels8.8,x86_64,compute",
        litefile: String = XcatdClientTests.litefile, litetree: String = XcatdClientTests.litetree,
        extra: [String] = []
    ) throws {
        try write(directory.sub("litefile.csv"), litefile + "\n")
        try write(directory.sub("litetree.csv"), litetree + "\n")
        var arguments = [
            "/usr/bin/python3", Self.script, "--cert", directory.sub("server.pem"), "--key",
            directory.sub("server.key"),
            "--port-file", directory.sub("port"), "--log", directory.sub("requests.log"), "--node", nodeType,
            "--litefile", directory.sub("litefile.csv"), "--litetree", directory.sub("litetree.csv"),
        ]
        if reverseLookup { arguments += ["--host", "127.0.0.1=cn01-eth0.cluster.test"] }
        let started = try TestProcess.start(
            arguments + extra, stdout: directory.sub("standin.out"), stderr: directory.sub("standin.err"))
        pid = started
        for _ in 0..<200 {
            if let text = try? String(contentsOfFile: directory.sub("port"), encoding: .utf8),
                let number = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
            {
                port = number
                return
            }
            usleep(50_000)
        }
        let stderr = (try? String(contentsOfFile: directory.sub("standin.err"), encoding: .utf8)) ?? ""
        throw XcatdTestError(message: "the xcatd stand-in did not start: \(stderr)")
    }

    /// The requests the stand-in received, in order.
    func requests() -> [String] {
        guard let text = try? String(contentsOfFile: directory.sub("requests.log"), encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard let data = line.data(using: .utf8),
                let record = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
            else { return nil }
            return record["request"] as? String
        }
    }

    func cleanup() {
        if let pid { TestProcess.stop(pid) }
        pid = nil
        directory.cleanup()
    }
}

struct XcatdTestError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

