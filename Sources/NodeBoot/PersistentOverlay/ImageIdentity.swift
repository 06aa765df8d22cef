import NodeSys

/// Which image a persistent upper layer was written over. Recorded on first use next to the upper
/// (`<upper>.nodeinit-identity`, outside the merged view) and compared at every boot.
///
/// The stamp is an FNV-1a 64 hash over: the names and kinds of the image's top directory; the size and mtime of
/// `/etc/os-release`, `/usr/lib/os-release`, `/var/lib/dpkg/status`, `/etc/nodeinit/image-id`; the mtime of the
/// directories `/etc`, `/usr/bin`, `/usr/lib`, `/var/lib/rpm`. Rebuilding or replacing an image (a new package
/// database, new os-release, a changed top level) changes it; reading it costs a dozen stat calls over NFS, not a
/// walk of the image. An admin can force a new identity by writing anything to `/etc/nodeinit/image-id`.
public struct ImageIdentity: Sendable, Equatable, CustomStringConvertible {
    public var server: String
    public var exportPath: String
    /// `nodeinit.image=`, `-` when not given.
    public var image: String
    /// 16 hex digits.
    public var stamp: String

    public init(server: String, exportPath: String, image: String, stamp: String) {
        self.server = server
        self.exportPath = exportPath
        self.image = image
        self.stamp = stamp
    }

    public var description: String { "\(server):\(exportPath) image=\(image) stamp=\(stamp)" }

    static let stampedFiles = [
        "/etc/os-release", "/usr/lib/os-release", "/var/lib/dpkg/status", "/etc/nodeinit/image-id",
    ]
    static let stampedDirectories = ["/etc", "/usr/bin", "/usr/lib", "/var/lib/rpm"]

    /// Computes the stamp of the image mounted at `lower`.
    public static func stamp(of lower: ConfinedTree) -> String {
        var hash = FNV1a()
        if let top = try? lower.openDirectory("/") {
            defer { FileTree.closeQuietly(top) }
            for name in (try? FileTree.list(top, path: "/"))?.names ?? [] {
                let kind = (try? FileTree.status(in: top, name))?.kind.rawValue ?? "?"
                hash.add("top \(name) \(kind)\n")
            }
        }
        for path in stampedFiles {
            if let status = try? lower.status(path) {
                hash.add("file \(path) \(status.size) \(status.mtime.seconds).\(status.mtime.nanoseconds)\n")
                if path == "/etc/nodeinit/image-id", let bytes = try? lower.readFile(path, limit: 4096) {
                    hash.add(bytes)
                }
            } else {
                hash.add("file \(path) absent\n")
            }
        }
        for path in stampedDirectories {
            if let status = try? lower.status(path) {
                hash.add("dir \(path) \(status.mtime.seconds).\(status.mtime.nanoseconds)\n")
            } else {
                hash.add("dir \(path) absent\n")
            }
        }
        return hash.hex
    }

    /// The identity file's text: `key=value` lines.
    public var fileText: String {
        "# nodeinit: the image this overlay upper was written over\nserver=\(server)\nexport=\(exportPath)\nimage=\(image)\nstamp=\(stamp)\n"
    }

    /// Parses `fileText`; nil when a key is missing.
    public init?(fileText: String) {
        var values: [String: String] = [:]
        for line in fileText.split(separator: "\n") where !line.hasPrefix("#") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            values[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        guard let server = values["server"], let export = values["export"], let image = values["image"],
            let stamp = values["stamp"]
        else { return nil }
        self.init(server: server, exportPath: export, image: image, stamp: stamp)
    }
}

/// 64-bit FNV-1a: small, dependency-free, enough to tell images apart (not a security boundary).
struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ bytes: [UInt8]) {
        for byte in bytes {
            value ^= UInt64(byte)
            value = value &* 0x0000_0100_0000_01b3
        }
    }

    mutating func add(_ text: String) { add(Array(text.utf8)) }

    var hex: String {
        let digits = Array("0123456789abcdef")
        var text = ""
        for shift in stride(from: 60, through: 0, by: -4) { text.append(digits[Int((value >> UInt64(shift)) & 0xf)]) }
        return text
    }
}
