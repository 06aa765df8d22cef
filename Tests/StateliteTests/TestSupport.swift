import Foundation
import Glibc

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
