import BootConfig
import Foundation
import Glibc
import Logging

@testable import NodeBoot

let runningAsRoot = getuid() == 0

/// A scratch directory under /tmp, unique per test, with every mount below it detached and everything removed at
/// `cleanup()` (call it in `defer`).
final class ScratchDirectory {
    let path: String

    init(_ name: String) throws {
        path = "/tmp/statelite-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func sub(_ relative: String) -> String { path + "/" + relative }

    /// Mount points at or below this directory, deepest (latest) first.
    func mountsBelow() -> [String] {
        guard let text = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return [] }
        var points: [String] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 4 else { continue }
            let point = String(fields[4]).replacingOccurrences(of: "\\040", with: " ")
            if point == path || point.hasPrefix(path + "/") { points.append(point) }
        }
        return points.reversed()
    }

    func cleanup() {
        for _ in 0..<4 {
            let points = mountsBelow()
            if points.isEmpty { break }
            for point in points { _ = umount2(point, Int32(MNT_DETACH)) }
        }
        try? FileManager.default.removeItem(atPath: path)
    }
}

func write(_ path: String, _ text: String, mode: Int = 0o644) throws {
    let directory = (path as NSString).deletingLastPathComponent
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try text.write(toFile: path, atomically: false, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
}

func read(_ path: String) -> String? {
    try? String(contentsOfFile: path, encoding: .utf8)
}

func symlinkTarget(_ path: String) -> String? {
    try? FileManager.default.destinationOfSymbolicLink(atPath: path)
}

func isReadOnlyMount(_ path: String) -> Bool {
    var info = statvfs()
    guard statvfs(path, &info) == 0 else { return false }
    return info.f_flag & UInt(ST_RDONLY) != 0
}

/// Runs a command; returns its exit status and combined output.
@discardableResult
func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: arguments[0])
    process.arguments = Array(arguments.dropFirst())
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

func mount(_ source: String, _ target: String, type: String, data: String?) -> Bool {
    Glibc.mount(source, target, type, 0, data) == 0
}

/// No network: these tests mount local devices only.
struct NoNetwork: BootNetwork {
    func bringUp(plan: NetworkPlan, logger: Logger) throws(BootFailure) -> BootLease {
        throw BootFailure(phase: .network, action: "bringing up the network", error: "no network in this test")
    }

    func resolve(host: String, nameservers: [IPAddress], searchDomains: [String], logger: Logger) throws(BootFailure)
        -> [IPAddress]
    { [] }
}

extension StateliteSetup {
    /// What the `loadTables` step does: the tables (image or command line), the plan with them; nil when statelite
    /// is not in use.
    func plan(commandLine: KernelCommandLine, bootPlan: BootPlan, hostName: String?) throws -> BootPlan? {
        let tables = try LiveStorage().loadTables(
            bootPlan.tables, imageRoot: environment.imageRoot, resolveHost: environment.resolveHost, log: log)
        let plan = try LoadTablesStep.plan(
            with: tables, commandLine: commandLine, plan: bootPlan, hostName: hostName, log: log)
        return plan.statelite.enabled ? plan : nil
    }

    /// The plan's statelite steps, each through its executor, walked on this setup.
    func apply(_ plan: BootPlan) throws(BootFailure) -> StateliteSummary {
        var plan = plan
        plan.steps = plan.steps.filter { $0.phase == .statelite }
        var context = BootContext(commandLine: KernelCommandLine(""), plan: plan)
        context.stateliteLog = log
        let walk = BootSequence(
            services: BootServices(
                network: NoNetwork(), kernel: LiveKernel(reapsChildren: false), storage: GivenStatelite(self),
                logger: Logger(label: "test")
            ))
        try walk.walk(&context)
        return summary
    }
}

/// Opens the test's own statelite setup (its scratch paths, short retries and captured log).
final class GivenStatelite: BootStorage {
    let setup: StateliteSetup
    init(_ setup: StateliteSetup) { self.setup = setup }

    func loadTables(
        _ locations: TableLocations, imageRoot: String, resolveHost: @escaping (String) -> String?, log: StateliteLog
    ) throws(StateliteError) -> StateliteTables.Loaded {
        try LiveStorage().loadTables(locations, imageRoot: imageRoot, resolveHost: resolveHost, log: log)
    }

    func openStatelite(_ environment: StateliteSetup.Environment, log: StateliteLog) -> any StateliteOperations {
        setup
    }

    func fetchXcatdTables(
        _ plan: XcatdPlan, address: IPAddress, imageRoot: String, litefile: Bool, litetree: Bool, seed: UInt64,
        log: StateliteLog
    ) throws(StateliteError) -> XcatdTables.Fetched {
        try LiveStorage().fetchXcatdTables(
            plan, address: address, imageRoot: imageRoot, litefile: litefile, litetree: litetree, seed: seed, log: log)
    }

    func prepareOverlayDevice(_ overlay: PersistentOverlay) throws(PersistentOverlayError) -> PersistentOverlay.Prepared
    {
        try overlay.prepare()
    }
}
