import BootConfig
import NodeAgent
import NodeSys
import SystemPackage
import Testing

@testable import NodeBoot

#if canImport(Glibc)
    import Glibc
#endif

private func plan(_ commandLine: String) throws -> BootPlan {
    try BootPlanner.plan(BootInputs(commandLine: KernelCommandLine(commandLine)))
}

@Suite struct AgentStartupTests {
    struct ArgumentsCase: Sendable, CustomStringConvertible {
        var commandLine: String
        var bootServer: String?
        var expected: [String]?
        var description: String { commandLine }
    }

    static let argumentsCases: [ArgumentsCase] = [
        // Default: the NFS server is the one allowed client; the tmpfs overlay's upper under /run/nodeinit.
        ArgumentsCase(
            commandLine: "ip=dhcp root=nfs:10.0.2.2:/srv/image", bootServer: "10.0.2.2",
            expected: [
                "nodeinit", "agent", "--root-fd", "3", "--ready-fd", "4", "--port", "7070", "--allow", "10.0.2.2",
                "--upper", "/run/nodeinit/overlay/upper", "--merged", "/",
            ]),
        // An explicit allowlist replaces the boot server; port, token and exclusions pass through.
        ArgumentsCase(
            commandLine: "root=nfs:srv:/img nodeinit.agent=7171 nodeinit.agent.allow=192.0.2.0/24,198.51.100.7 "
                + "nodeinit.agent.token=/etc/nodeinit/agent.token nodeinit.save.exclude=/var/log",
            bootServer: "10.0.2.2",
            expected: [
                "nodeinit", "agent", "--root-fd", "3", "--ready-fd", "4", "--port", "7171", "--allow", "192.0.2.0/24",
                "--allow", "198.51.100.7/32", "--token-file", "/etc/nodeinit/agent.token",
                "--upper", "/run/nodeinit/overlay/upper", "--merged", "/", "--exclude", "/var/log",
            ]),
        // Without an overlay there is no upper to serve.
        ArgumentsCase(commandLine: "root=nfs:10.0.2.2:/srv/image rd.overlay=0", bootServer: "10.0.2.2", expected: nil),
    ]

    @Test(arguments: argumentsCases)
    func agentCommandLineFollowsThePlan(_ testCase: ArgumentsCase) throws {
        let plan = try plan(testCase.commandLine)
        let startup = AgentStartup(
            plan: plan, port: plan.agent.port ?? 0, bootServerAddress: testCase.bootServer.flatMap { IPAddress($0) },
            upperDirectory: plan.overlay == .none ? nil : "/run/nodeinit/overlay/upper")
        #expect(startup.arguments == testCase.expected)
    }

    /// WalT's command line: walt-init builds the overlay later, so the agent finds the upper itself, and the WalT
    /// server (walt.server.ip) is allowed beside the NFS server.
    @Test func waltInitAgentFindsWaltsUpper() throws {
        let plan = try plan(
            "root=/dev/nfs boot=walt nfsroot=10.0.2.2:/srv/walt,ro,vers=3,nolock walt.server.ip=10.0.2.2 "
                + "init=/bin/walt-init ip=10.0.2.15:10.0.2.2:10.0.2.2:255.255.255.0:walt-node-12::off")
        let startup = AgentStartup(
            plan: plan, port: 7070, bootServerAddress: IPAddress("10.0.2.2"), upperDirectory: nil)
        #expect(
            startup.arguments == [
                "nodeinit", "agent", "--root-fd", "3", "--ready-fd", "4", "--port", "7070", "--allow", "10.0.2.2",
                "--walt",
                "--merged", "/",
            ])
    }

    @Test func noOverlayIsReportedAndNothingStarts() throws {
        let plan = try plan("root=nfs:10.0.2.2:/srv/image rd.overlay=0")
        let startup = AgentStartup(
            plan: plan, port: 7070, bootServerAddress: IPAddress("10.0.2.2"), upperDirectory: nil,
            binaryCopy: "/nonexistent/x")
        #expect(throws: AgentStartup.Error.self) { try startup.start(logger: .init(label: "test")) }
        #expect(!FileSystem.exists("/nonexistent/x"))
    }

    @Test func unknownServerAndNoAllowListIsAnError() throws {
        let plan = try plan("root=nfs:10.0.2.2:/srv/image")
        let startup = AgentStartup(
            plan: plan, port: 7070, bootServerAddress: nil, upperDirectory: "/run/nodeinit/overlay/upper",
            binaryCopy: "/nonexistent/x")
        #expect(startup.allowList.isEmpty)
        do {
            _ = try startup.start(logger: .init(label: "test"))
            Issue.record("started without any allowed client")
        } catch {
            #expect("\(error)".contains("no client to allow"))
        }
    }

    @Test func binaryCopyIsByteIdenticalAndOwnerOnly() throws {
        let directory = "/tmp/nodesave-agentstartup-\(getpid())"
        try FileSystem.makeDirectory(directory, mode: 0o700)
        defer {
            if let tmp = try? FileTree.openAnchor(FilePath("/tmp")) {
                try? FileTree.removeTree(in: tmp, "nodesave-agentstartup-\(getpid())")
                FileTree.closeQuietly(tmp)
            }
        }
        let plan = try plan("root=nfs:10.0.2.2:/srv/image")
        let startup = AgentStartup(
            plan: plan, port: 7070, bootServerAddress: IPAddress("10.0.2.2"),
            upperDirectory: "/run/nodeinit/overlay/upper", binaryCopy: directory + "/nodeinit")
        try startup.copyBinary()
        let original = try FileContents.bytes(at: "/proc/self/exe", limit: 1 << 30)
        let copy = try FileContents.bytes(at: directory + "/nodeinit", limit: 1 << 30)
        #expect(copy == original)
        var info = stat()
        #expect(lstat(directory + "/nodeinit", &info) == 0)
        #expect(info.st_mode & 0o7777 == 0o700)
        #expect(!FileSystem.exists(directory + "/nodeinit.new"))
    }

    /// The agent gets its new root as descriptor 3 (what `--root-fd 3` reads), open on that directory, and the ready
    /// pipe as descriptor 4: the start returns once every copy of it is closed (here: when sh exits).
    @Test func theNewRootIsHandedOverAsDescriptor3() throws {
        let directory = "/tmp/nodeinit-agent-root-\(getpid())"
        #expect(mkdir(directory, 0o700) == 0)
        defer { rmdir(directory) }
        let log = directory + ".log"
        defer { unlink(log) }
        let (pid, ready) = try NodeAgent.AgentLaunch.start(
            binary: "/bin/sh", arguments: ["sh", "-c", "readlink /proc/self/fd/3; cd /proc/self/fd/3 && pwd -P"],
            logPath: log, newRoot: directory)
        reap(pid)
        #expect(ready)
        let text = String(decoding: try FileContents.bytes(at: log, limit: 1 << 16), as: UTF8.self)
        #expect(text == "\(directory)\n\(directory)\n", "\(text)")
        // A new root that cannot be opened is reported with its path, and nothing starts.
        #expect(throws: NodeAgent.AgentLaunch.Error.self) {
            try NodeAgent.AgentLaunch.start(
                binary: "/bin/true", arguments: ["true"], logPath: log, newRoot: directory + "/none")
        }
    }
}

/// waitpid on that one child (tests run in parallel in one process: waiting for any child could steal another's).
private func reap(_ pid: pid_t) {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
}
