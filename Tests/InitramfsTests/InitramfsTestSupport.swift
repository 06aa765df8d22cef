import Foundation

/// Helpers for the initramfs tests: processes, temporary trees, a newc reader, the fake kernel modules tree.
enum InitramfsTestSupport {
    static let repository: String = {
        var path = #filePath
        for _ in 0..<3 { path = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)]) }
        return path
    }()
    /// The `nodeinit` that `swift build --build-tests` leaves next to the tests.
    static let nodeinit = repository + "/.build/debug/nodeinit"

    struct CommandFailed: Error, CustomStringConvertible {
        var command: [String]
        var status: Int32
        var stderr: String
        var description: String { "\(command.joined(separator: " ")) exited \(status): \(stderr)" }
    }

    /// Runs a command (argv[0] looked up in PATH), returns its stdout; throws with its stderr when it fails.
    @discardableResult
    static func run(_ command: [String], environment: [String: String]? = nil) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("initramfs-test-\(UUID())")
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errorFile) }
        let errorHandle = try FileHandle(forWritingTo: errorFile)
        let out = Pipe()
        process.standardOutput = out
        process.standardError = errorHandle
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try errorHandle.close()
        guard process.terminationStatus == 0 else {
            let stderr = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
            throw CommandFailed(command: command, status: process.terminationStatus, stderr: stderr)
        }
        return data
    }

    static func makeTemporaryDirectory(_ label: String) throws -> String {
        let path = "/tmp/initramfs-\(label)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func write(_ text: String, to path: String, mode: Int = 0o644) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    /// One newc entry as read back: everything the parity test compares (inode numbers included).
    struct Entry: Equatable, CustomStringConvertible {
        var name: String
        var inode: UInt32
        var mode: UInt32
        var uid: UInt32
        var gid: UInt32
        var links: UInt32
        var mtime: UInt32
        var rdevMajor: UInt32
        var rdevMinor: UInt32
        var data: [UInt8]
        var description: String {
            "\(name) mode \(String(mode, radix: 8)) \(uid):\(gid) rdev \(rdevMajor):\(rdevMinor) \(data.count) bytes"
        }
    }

    struct MalformedArchive: Error, CustomStringConvertible {
        var offset: Int
        var description: String { "not a newc entry at byte \(offset)" }
    }

    /// Reads an uncompressed newc archive (up to and including TRAILER!!!).
    static func entries(_ archive: [UInt8]) throws -> [Entry] {
        var result: [Entry] = []
        var offset = 0
        func field(_ index: Int) throws -> UInt32 {
            let start = offset + 6 + 8 * index
            guard start + 8 <= archive.count,
                let value = UInt32(String(decoding: archive[start..<(start + 8)], as: UTF8.self), radix: 16)
            else { throw MalformedArchive(offset: offset) }
            return value
        }
        while true {
            guard offset + 110 <= archive.count, Array(archive[offset..<(offset + 6)]) == Array("070701".utf8) else {
                throw MalformedArchive(offset: offset)
            }
            let nameSize = Int(try field(11))
            let size = Int(try field(6))
            let nameStart = offset + 110
            let name = String(decoding: archive[nameStart..<(nameStart + nameSize - 1)], as: UTF8.self)
            let dataStart = (nameStart + nameSize + 3) & ~3
            guard dataStart + size <= archive.count else { throw MalformedArchive(offset: offset) }
            let entry = Entry(
                name: name, inode: try field(0), mode: try field(1), uid: try field(2), gid: try field(3),
                links: try field(4), mtime: try field(5), rdevMajor: try field(9), rdevMinor: try field(10),
                data: Array(archive[dataStart..<(dataStart + size)]))
            result.append(entry)
            offset = (dataStart + size + 3) & ~3
            if name == "TRAILER!!!" { return result }
        }
    }

    /// The archive's plain bytes, whatever its compression (zstd, gzip or none), through the Debian tools.
    static func plainArchive(_ path: String) throws -> [UInt8] {
        let head = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)).prefix(4))
        if head.starts(with: [0x28, 0xb5, 0x2f, 0xfd]) { return [UInt8](try run(["zstd", "-dc", path])) }
        if head.starts(with: [0x1f, 0x8b]) { return [UInt8](try run(["gzip", "-dc", path])) }
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static let fakeKernelVersion = "9.9.9-fake"

    /// A kernel modules tree with a handful of fake .ko files (text, not ELF: depmod warns it cannot read their
    /// symbols and still indexes them) and the index files the closure reads:
    /// nfsv4 -> nfs -> sunrpc, ext4 with a `pre:` softdep on the alias crypto-crc32c (crc32c_generic), e1000,
    /// and af_packet built in. `unused` is never asked for.
    static func makeFakeModulesTree(root: String) throws -> String {
        let directory = "\(root)/lib/modules/\(fakeKernelVersion)"
        let modules = [
            "kernel/fs/nfs/nfsv4.ko", "kernel/fs/nfs/nfs.ko", "kernel/net/sunrpc/sunrpc.ko", "kernel/fs/ext4/ext4.ko",
            "kernel/crypto/crc32c_generic.ko", "kernel/drivers/net/ethernet/intel/e1000/e1000.ko",
            "kernel/drivers/unused/unused.ko",
        ]
        for module in modules { try write("fake module \(module)\n", to: "\(directory)/\(module)") }
        try write(
            """
            kernel/fs/nfs/nfsv4.ko: kernel/fs/nfs/nfs.ko kernel/net/sunrpc/sunrpc.ko
            kernel/fs/nfs/nfs.ko: kernel/net/sunrpc/sunrpc.ko
            kernel/net/sunrpc/sunrpc.ko:
            kernel/fs/ext4/ext4.ko:
            kernel/crypto/crc32c_generic.ko:
            kernel/drivers/net/ethernet/intel/e1000/e1000.ko:
            kernel/drivers/unused/unused.ko:

            """, to: "\(directory)/modules.dep")
        try write(
            """
            # Aliases extracted from modules themselves.
            alias crypto-crc32c crc32c_generic
            alias crc32c crc32c_generic
            alias pci:v00008086d0000100Esv*sd*bc*sc*i* e1000
            alias fs-ext4 ext4

            """, to: "\(directory)/modules.alias")
        try write(
            """
            # Soft dependencies extracted from modules themselves.
            softdep ext4 pre: crypto-crc32c post: unused

            """, to: "\(directory)/modules.softdep")
        try write("kernel/net/packet/af_packet.ko\n", to: "\(directory)/modules.builtin")
        try write(modules.joined(separator: "\n") + "\n", to: "\(directory)/modules.order")
        return directory
    }

    static let fakeModuleList = "nfsv4 ext4\ne1000  # a NIC\naf_packet\nnot_in_this_kernel\n"
}
