import Foundation
import NodeSys
import OverlayCapture

/// Shared helpers: temp dirs, running tools, the Python reader scripts.
enum TestSupport {
    static let isRoot = getuid() == 0
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts")

    struct CommandFailed: Error, CustomStringConvertible {
        var command: [String]
        var status: Int32
        var stderr: String
        var description: String { "\(command.joined(separator: " ")) exited \(status): \(stderr)" }
    }

    /// Runs a command, returns stdout; throws with stderr when it fails.
    @discardableResult
    static func run(_ command: [String], input: Data? = nil) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let inputPipe = Pipe()
        if input != nil { process.standardInput = inputPipe }
        try process.run()
        if let input {
            inputPipe.fileHandleForWriting.write(input)
            try inputPipe.fileHandleForWriting.close()
        }
        // Read both pipes concurrently enough for test-sized outputs.
        final class Box: @unchecked Sendable { var data = Data() }
        let errBox = Box()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errBox.data = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        let errData = errBox.data
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CommandFailed(
                command: command, status: process.terminationStatus,
                stderr: String(decoding: errData, as: UTF8.self))
        }
        return outData
    }

    /// A fresh directory under /tmp with a helper-specific prefix.
    static func makeTempDirectory(_ label: String) throws -> String {
        var template = Array("/tmp/capture-\(label)-XXXXXX".utf8CString)
        guard let result = mkdtemp(&template) else { throw POSIXError(.EIO) }
        return String(cString: result)
    }

    static func write(_ path: String, _ text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    /// Members of a plain tar file as read by Python's tarfile.
    struct Member: Decodable, Equatable {
        var name: String
        var type: String
        var mode: Int
        var uid: Int
        var gid: Int
        var uname: String
        var gname: String
        var size: Int64
        var linkname: String
        var devmajor: Int
        var devminor: Int
        var mtime: String
        var xattrs: [String: String]
        var sha256: String?
    }

    static func pythonMembers(_ tarPath: String) throws -> [Member] {
        let data = try run(["python3", scripts.appendingPathComponent("layer_dump.py").path, tarPath])
        return try JSONDecoder().decode([Member].self, from: data)
    }

    struct TreeEntry: Decodable, Equatable {
        var type: String?
        var mode: Int
        var uid: Int
        var gid: Int
        var size: Int64
        var sha256: String?
        var target: String?
        var mtime_ns: Int64
        var rdev: [Int]?
        var xattrs: [String: String]
        var links: [String]
    }

    static func tree(_ root: String) throws -> [String: TreeEntry] {
        let data = try run(["python3", scripts.appendingPathComponent("tree_dump.py").path, root])
        return try JSONDecoder().decode([String: TreeEntry].self, from: data)
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    /// Writes entries with TarWriter into memory.
    static func tar(_ entries: [(TarEntry, [UInt8])]) throws -> [UInt8] {
        var writer = TarWriter(sink: MemorySink())
        for (entry, data) in entries {
            try writer.append(entry)
            try data.withUnsafeBytes { try writer.appendData($0) }
        }
        try writer.finish()
        return writer.sink.bytes
    }
}
