import Foundation
import Testing

@testable import BootConfig

/// `nodeinit plan` run as a process: the binary `swift build --build-tests` left in .build.
@Suite struct PlanCommandTests {
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    static func binary() -> URL? {
        if let path = ProcessInfo.processInfo.environment["NODEINIT_BINARY"] { return URL(fileURLWithPath: path) }
        let candidate = packageRoot.appendingPathComponent(".build/debug/nodeinit")
        return FileManager.default.isExecutableFile(atPath: candidate.path) ? candidate : nil
    }

    static func run(_ arguments: [String]) throws -> Run {
        guard let binary = binary() else {
            Issue.record("nodeinit binary not found in .build/debug (run swift build --build-tests)")
            return Run(status: -1, stdout: "", stderr: "")
        }
        let process = Process()
        process.executableURL = binary
        process.arguments = ["plan"] + arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }

    static func temporaryFile(_ text: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bootconfig-\(UUID().uuidString).csv")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    @Test func textPlanForTheXcatLine() throws {
        let run = try Self.run(["--cmdline", RealCommandLineTests.xcatDracut])
        #expect(run.status == 0)
        #expect(
            run.stdout.contains(
                "mount NFS root 10.187.1.150:/install/netboot/centos7-statelite/x86_64/login/rootimg on /run/nodeinit/lower"
            ))
        #expect(
            run.stdout.contains("try NFSv3: -t nfs -o vers=3,ro,nolock,nocto,actimeo=2592000,addr=<server address>"))
        #expect(run.stderr.isEmpty)
    }

    @Test func jsonDecodesToTheSamePlan() throws {
        let litefile = try Self.temporaryFile(CookbookFixtures.slesLitefile)
        defer { try? FileManager.default.removeItem(at: litefile) }
        let run = try Self.run([
            "--cmdline", RealCommandLineTests.walt, "--litefile", litefile.path, "--image", "img", "--json",
        ])
        #expect(run.status == 0)
        let decoded = try JSONDecoder().decode(BootPlan.self, from: Data(run.stdout.utf8))
        let expected = try BootPlanner.plan(
            BootInputs(
                commandLine: KernelCommandLine(RealCommandLineTests.walt),
                litefile: BootInputs.Table(name: litefile.path, text: CookbookFixtures.slesLitefile), image: "img"))
        #expect(decoded == expected)
        #expect(run.stdout.contains("\"initPath\" : \"/bin/walt-init\""))
    }

    @Test(arguments: [
        (
            "root=nfs:10.0.0.1:/img ip=eth0:static",
            "nodeinit plan: ip=\"eth0:static\": unknown method \"static\" for interface eth0\n"
        ),
        (
            "quiet splash",
            "nodeinit plan: root=\"\": no root given: use root=nfs:server:/path, NFSROOT=server:/dir or root=/dev/nfs nfsroot=server:/path\n"
        ),
        ("NFSROOT=a:/b STATEMNT=server", "nodeinit plan: STATEMNT=\"server\": expected server:/directory\n"),
    ])
    func malformedCommandLineExitsTwo(_ line: String, _ message: String) throws {
        let run = try Self.run(["--cmdline", line])
        #expect(run.status == 2)
        #expect(run.stderr == message)
        #expect(run.stdout.isEmpty)
    }

    @Test func malformedTableExitsTwoNamingFileAndLine() throws {
        let litefile = try Self.temporaryFile("#image,file,options,comments,disable\n\"ALL\",\"/etc/ssh/\",\"con\",,\n")
        defer { try? FileManager.default.removeItem(at: litefile) }
        let run = try Self.run(["--cmdline", "NFSROOT=a:/b", "--litefile", litefile.path])
        #expect(run.status == 2)
        #expect(
            run.stderr == "nodeinit plan: \(litefile.path):2: con applies only to files, and /etc/ssh/ is a directory\n"
        )
    }

    @Test func missingTableFileExitsTwo() throws {
        let run = try Self.run(["--cmdline", "NFSROOT=a:/b", "--litetree", "/nonexistent/bootconfig-litetree.csv"])
        #expect(run.status == 2)
        #expect(run.stderr.hasPrefix("nodeinit plan: cannot open /nonexistent/bootconfig-litetree.csv: No such file"))
    }
}

@Suite struct PlanJSONTests {
    @Test(arguments: [
        RealCommandLineTests.xcatDracut, RealCommandLineTests.walt, RealCommandLineTests.ovirt,
        "root=nfs4:[fd00::1]:/img ip=[fd00::5]::[fd00::1]:64:v6:eth0:none rd.overlay=PARTUUID=ab:/ovl rd.overlay.readonly rd.break=pre-pivot nodeinit.agent.allow=fd00::/64",
        "root=nfs:a:/b rd.overlay=0 ip=eth0:dhcp6 ip=eth1:auto6 ip=eth2:link6 ip=eth3:either6 nodeinit.agent=off",
        "root=nfs:a:/b ip=off",
    ])
    func roundTrips(_ line: String) throws {
        let plan = try BootPlanner.plan(
            BootInputs(
                commandLine: KernelCommandLine(line),
                litefile: .init(name: "lf", text: CookbookFixtures.redhatLitefile), hostName: "cn1"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(plan)
        #expect(try JSONDecoder().decode(BootPlan.self, from: data) == plan)
        #expect(try encoder.encode(JSONDecoder().decode(BootPlan.self, from: data)) == data)
    }
}
