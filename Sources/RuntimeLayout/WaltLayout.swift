/// Where WalT's own boot chain keeps a node's overlay, as the booted system sees it. WalT's `walt-init`
/// (walt-python-packages, `server/walt/server/mount/walt-init`, `walt-boot-modes`) copies itself into a RAM root
/// (`/run/walt/rootfs`), mounts its overlay there and pivots into it, so after the boot:
///
/// - network mode: upper `/run/walt/rootfs/mnt/fs_rw` (tmpfs), lower `/run/walt/rootfs/mnt/nfsroot` (the NFS root);
/// - hybrid modes: upper `/run/walt/rootfs/mnt/hm_part/walt_hybrid/<walt_image_id>/diff` on a local ext4 partition,
///   lower a local copy of the image.
///
/// walt-init appends `export walt_boot_mode='<mode>'` to `/bin/walt-env` (which the WalT server writes with
/// `walt_image_id`), so the upper of a running node follows from that file. Pure: text in, path out.
public enum WaltLayout {
    /// walt-init's RAM root after its final pivot_root.
    public static let ramRoot = "/run/walt/rootfs"
    /// The file the WalT server writes into every image (`walt_server_ip`, `walt_image_id`, ...) and walt-init
    /// completes with `walt_boot_mode`.
    public static let environmentFile = "/bin/walt-env"
    /// The upper of walt-init's network-mode overlay.
    public static let networkUpper = ramRoot + "/mnt/fs_rw"
    /// The node-side name `walt node save` runs (through ssh) on a node booted by nodeinit: a link to the nodeinit
    /// binary, which then captures walt-init's upper (see docs/walt.md).
    public static let dumpCommandName = "walt-dump-diff-layer"

    /// Files walt-init and the WalT server rewrite in the upper at every boot or image mount: never part of a save
    /// (WalT's own `walt-dump-diff-tar` leaves them out too). `/persist` is an NFS bind mount, not overlay data.
    public static let saveExclusions = ["/bin/walt-env", "/bin/_walt_internal_", "/persist/*"]

    /// walt-init's boot modes (`walt-boot-modes: detect_boot_mode`).
    public enum BootMode: String, Sendable, Equatable {
        case network
        case hybridVolatile = "hybrid-volatile"
        case hybridPersistent = "hybrid-persistent"
    }

    public enum Error: Swift.Error, Equatable, CustomStringConvertible {
        /// walt-init has not (yet) recorded its boot mode: it did not run, or has not mounted its overlay yet.
        case noBootMode
        case unknownBootMode(String)
        /// A hybrid mode needs `walt_image_id`, which names a directory: it must be one plain name.
        case badImageID(String)

        public var description: String {
            switch self {
            case .noBootMode:
                "\(WaltLayout.environmentFile) has no walt_boot_mode: walt-init has not mounted its overlay "
                    + "(is the node booted with init=/bin/walt-init and past walt-init?)"
            case .unknownBootMode(let mode):
                "\(WaltLayout.environmentFile): walt_boot_mode='\(mode)' is not network, hybrid-volatile or "
                    + "hybrid-persistent"
            case .badImageID(let id):
                "\(WaltLayout.environmentFile): walt_image_id='\(id)' is not a plain directory name"
            }
        }
    }

    /// The upper dir (absolute, in the booted system) the boot mode in `environment` (the text of
    /// `/bin/walt-env`) puts the node's changes in.
    public static func upperDirectory(environment: String) throws(Error) -> String {
        let variables = shellAssignments(environment)
        guard let modeText = variables["walt_boot_mode"] else { throw .noBootMode }
        guard let mode = BootMode(rawValue: modeText) else { throw .unknownBootMode(modeText) }
        switch mode {
        case .network:
            return networkUpper
        case .hybridVolatile, .hybridPersistent:
            let id = variables["walt_image_id"] ?? ""
            guard !id.isEmpty, id != ".", id != "..", !id.contains("/") else { throw .badImageID(id) }
            return ramRoot + "/mnt/hm_part/walt_hybrid/" + id + "/diff"
        }
    }

    /// `name=value` assignments of a walt-env style file (`export ` optional, value bare or in single or double
    /// quotes); later assignments win, as when the shell sources the file. Other lines are ignored.
    public static func shellAssignments(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for rawLine in text.split(separator: "\n") {
            var line = Substring(rawLine.drop(while: { $0 == " " || $0 == "\t" }))
            if line.hasPrefix("export ") { line = line.dropFirst(7).drop(while: { $0 == " " }) }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let name = line[..<equals]
            guard !name.isEmpty, name.allSatisfy({ $0 == "_" || $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
                continue
            }
            var value = line[line.index(after: equals)...]
            while let last = value.last, last == " " || last == "\t" || last == "\r" { value = value.dropLast() }
            if value.count >= 2, let first = value.first, first == "'" || first == "\"", value.last == first {
                value = value.dropFirst().dropLast()
            }
            result[String(name)] = String(value)
        }
        return result
    }
}
