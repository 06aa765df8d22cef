import BlockDevices
import BootConfig
import NodeSys
import OverlayCapture

/// xCAT statelite at boot, after the root (and its overlay) is mounted on the new root and before switch_root:
/// the `/.statelite` tmpfs, the persistent store, the local disk, the read-only litetree sources and every litefile
/// entry.
///
/// Failure policy: `persistent` entries with a STATEMNT that does not mount stop the boot (xCAT does the same;
/// silently writing "persistent" files to RAM would lose them at the next reboot). Without any STATEMNT the plan
/// already warns; the setup repeats it loudly on the console and in statelite.log, and leaves
/// `/.statelite/persistent/NOT-PERSISTENT` explaining it. A litetree source that does not mount is skipped with a
/// warning (as xCAT does); one entry that cannot be applied is logged and the others go on.
public final class StateliteSetup: StateliteOperations {
    public struct Environment {
        /// The new root (`/sysroot`).
        public var newRoot: String
        /// The image as mounted read-only: the overlay's lower dir, or the new root itself.
        public var imageRoot: String
        /// The overlay's upper dir; nil when the root is not an overlay (then the image cannot be changed and
        /// link-type entries need an image prepared by liteimg, or fall back to bind mounts).
        public var upperDir: String?
        /// Name → address for the STATEMNT and litetree servers (numeric ones pass through).
        public var resolveHost: (String) -> String?
        /// Rounds of mount attempts for the persistent store and for each litetree source.
        public var statemntRounds: Int
        public var litetreeRounds: Int
        public var retryPauseMilliseconds: Int
        /// The boot-placed manifest node save reads (`/run/nodeinit/placed.json`).
        public var placedManifestPath: String
        /// The local disk (`nodeinit.localdisk=`): how long to wait for it (`rd.timeout`, 0 = forever), how it is
        /// found, and the loader for its file system's module.
        public var deviceTimeoutSeconds: Int
        public var deviceResolver: DeviceResolver
        public var loadModule: (String) -> Void

        public init(
            newRoot: String, imageRoot: String, upperDir: String?, resolveHost: @escaping (String) -> String?,
            statemntRounds: Int = 5, litetreeRounds: Int = 3, retryPauseMilliseconds: Int = 2000,
            placedManifestPath: String = BootPlacedManifest.defaultPath, deviceTimeoutSeconds: Int = 0,
            deviceResolver: DeviceResolver = DeviceResolver(), loadModule: @escaping (String) -> Void = { _ in }
        ) {
            self.deviceTimeoutSeconds = deviceTimeoutSeconds
            self.deviceResolver = deviceResolver
            self.loadModule = loadModule
            self.placedManifestPath = placedManifestPath
            self.newRoot = newRoot
            self.imageRoot = imageRoot
            self.upperDir = upperDir
            self.resolveHost = resolveHost
            self.statemntRounds = statemntRounds
            self.litetreeRounds = litetreeRounds
            self.retryPauseMilliseconds = retryPauseMilliseconds
        }
    }

    public let environment: Environment
    public let log: StateliteLog
    public let placed: BootPlacedRecorder

    public init(environment: Environment, log: StateliteLog) {
        self.environment = environment
        self.log = log
        self.placed = BootPlacedRecorder(upperDir: environment.upperDir, manifestPath: environment.placedManifestPath)
    }

    // MARK: - Steps, in plan order

    /// The new root, opened once by `mountStateliteTmpfs` (every later step works inside it).
    private var rootTree: ConfinedTree?
    /// Litetree sources in priority order, as `mountLitetree` made them usable.
    private var trees: [LitefileApplier.SourceTree] = []
    /// Built by the first `applyLitefile`, once every tree is mounted.
    private var applier: LitefileApplier?
    public private(set) var summary = StateliteSummary()

    private func root() throws(StateliteError) -> ConfinedTree {
        if let rootTree { return rootTree }
        let tree = try ConfinedTree.opening(environment.newRoot, as: "the new root")
        rootTree = tree
        return tree
    }

    /// `mountStateliteTmpfs`: the `/.statelite` tmpfs (hiding the image's copy) with tmpfs/, persistent/ and mnt/.
    public func mountStateliteTmpfs() throws(StateliteError) {
        try mountStateliteTmpfs(try root())
    }

    /// `mountStatemnt`: the node's directory of the persistent store on `/.statelite/persistent`. Failing is fatal
    /// only when `persistent` entries need it.
    public func mountStatemnt(_ statemnt: StatemntPlan, nodeName: String?, entries: [LitefileEntry])
        throws(StateliteError)
    {
        let hasPersistentEntries = entries.contains { $0.option == .persistent || $0.option == .linkPersistent }
        do {
            try mountPersistentStore(statemnt, nodeName: nodeName, root: try root())
            summary.persistentStore = true
        } catch {
            if hasPersistentEntries { throw error }
            log.warning("\(error); no persistent entries use it, so the boot goes on")
        }
    }

    /// Without a STATEMNT, `persistent` entries live in RAM: said loudly, and in a file on the node.
    public func warnNoPersistentStore(entries: [LitefileEntry]) throws(StateliteError) {
        guard entries.contains(where: { $0.option == .persistent || $0.option == .linkPersistent }) else { return }
        let text = "persistent litefile entries but no STATEMNT: their files live in RAM and are LOST at reboot"
        log.warning(text)
        try? root().writeFile(
            "/.statelite/persistent/NOT-PERSISTENT",
            Array("nodeinit: no STATEMNT was given, so /.statelite/persistent is on a tmpfs.\n\(text).\n".utf8))
    }

    /// `mountLocalDisk`: see `mountLocalDisk(_:root:)`.
    public func mountLocalDisk(_ disk: LocalDiskPlan) throws(StateliteError) {
        summary.localDisk = mountLocalDisk(disk, root: try root())
    }

    /// `mountLitetree`: one source tree, mounted read-only (a server's) or opened in place (the image's own).
    public func mountLitetree(_ tree: LitetreeMount) throws(StateliteError) {
        guard let mounted = mountTree(tree, root: try root()) else {
            summary.treesSkipped += 1
            return
        }
        summary.treesMounted += tree.server == nil ? 0 : 1
        trees.append(LitefileApplier.SourceTree(tree: mounted, display: tree.mountPoint))
    }

    /// `applyLitefile`: one entry; a failed entry is logged and the others go on.
    public func applyLitefile(_ entry: LitefileEntry, in entries: [LitefileEntry]) throws(StateliteError) {
        let applier = try self.litefileApplier()
        if applier.apply(entry, in: entries) { summary.applied += 1 } else { summary.failed += 1 }
    }

    /// `linkMtab`, the last statelite step: `/etc/mtab` as xCAT links it, then the boot-placed manifest.
    public func linkMtab() throws(StateliteError) {
        try litefileApplier().linkMtab()
        do {
            summary.placedRecords = try placed.write()
        } catch {
            log.warning("cannot write the boot-placed manifest: \(error); node save may list these paths as changes")
        }
        log.info(
            "statelite done: \(summary.applied) entries applied, \(summary.failed) failed, \(summary.treesMounted) trees mounted, \(summary.treesSkipped) skipped"
        )
    }

    private func litefileApplier() throws(StateliteError) -> LitefileApplier {
        if let applier { return applier }
        let root = try root()
        let image = try ConfinedTree.opening(environment.imageRoot, as: "the image")
        let defaults = (try? root.subtree("/.default")).map {
            LitefileApplier.SourceTree(tree: $0, display: "/.default")
        }
        let made = LitefileApplier(
            root: root, image: image, trees: trees, defaults: defaults, canChangeImage: environment.upperDir != nil,
            log: log, placed: placed)
        applier = made
        return made
    }

    // MARK: - Mounts

    func mountStateliteTmpfs(_ root: ConfinedTree) throws(StateliteError) {
        do {
            let existed = (try root.status("/.statelite")) != nil
            let fd = try root.ensureDirectory("/.statelite") { self.placed.placed($0) }
            FileTree.closeQuietly(fd)
            // Source name `rw`, as xCAT's (what df shows on the node).
            try root.mount(source: "rw", fileSystemType: "tmpfs", data: "mode=0755", at: "/.statelite")
            log.attach(to: root)
            log.action("mounted tmpfs", from: "rw", to: "/.statelite\(existed ? " (hiding the image's copy)" : "")")
            for directory in ["/.statelite/tmpfs", "/.statelite/persistent", "/.statelite/mnt"] {
                FileTree.closeQuietly(try root.ensureDirectory(directory))
            }
        } catch {
            throw .setup(action: "mounting the /.statelite tmpfs", reason: error.description)
        }
    }

    func mountPersistentStore(_ statemnt: StatemntPlan, nodeName: String?, root: ConfinedTree) throws(StateliteError) {
        let display = "\(statemnt.server):\(statemnt.path)"
        guard let node = nodeName, !node.isEmpty, !node.contains("/"), node != "..", node != "." else {
            throw .persistentStoreUnavailable(
                statemnt: display, attempts: ["no usable node name (NODE=, ip= host name or DHCP host name)"])
        }
        guard let address = environment.resolveHost(statemnt.server) else {
            throw .persistentStoreUnavailable(statemnt: display, attempts: ["cannot resolve \(statemnt.server)"])
        }
        let nodePath = statemnt.nodePath.replacingPercentN(with: node)
        let target = statemnt.mountPoint
        func mount(_ path: String, rounds: Int) -> Result<NFSMountAttempt, MountFailures> {
            StateliteNFSMount(
                server: statemnt.server, address: address, path: path, attempts: statemnt.attempts, rounds: rounds,
                pauseMilliseconds: environment.retryPauseMilliseconds
            ).mount(on: root, at: target)
        }
        var failures: [String] = []
        func mountNodeDirectory() -> Bool {
            switch mount(nodePath, rounds: 1) {
            case .success(let attempt):
                log.action(
                    "mounted persistent store (vers=\(attempt.version))", from: "\(statemnt.server):\(nodePath)",
                    to: target)
                return true
            case .failure(let failed):
                failures += failed.lines
                return false
            }
        }
        // Usual case: the node's directory exists already.
        if mountNodeDirectory() { return }
        // First boot (or the server is slow): mount the parent, create <node>, remount on it (xCAT's dance).
        for round in 1...max(1, environment.statemntRounds) {
            switch mount(statemnt.path, rounds: 1) {
            case .success:
                do {
                    let created = (try root.status(target + "/" + node)) == nil
                    FileTree.closeQuietly(try root.ensureDirectory(target + "/" + node))
                    if created {
                        log.action("created the node's persistent directory", to: "\(statemnt.server):\(nodePath)")
                    }
                } catch {
                    failures.append("creating \(nodePath): \(error)")
                }
                do { try root.unmount(target) } catch { failures.append("unmounting \(statemnt.path): \(error)") }
                if mountNodeDirectory() { return }
            case .failure(let failed):
                failures += failed.lines.map { "round \(round): \($0)" }
            }
            if round < environment.statemntRounds { Pause.sleep(milliseconds: environment.retryPauseMilliseconds) }
        }
        log.warning("persistent store \(display) did not mount: \(failures.suffix(4).joined(separator: "; "))")
        throw .persistentStoreUnavailable(statemnt: display, attempts: failures)
    }

    /// Mounts one litetree source read-only (a server tree) or opens it in place (an image directory). Nil when it
    /// cannot be used; the warning says why.
    func mountTree(_ tree: LitetreeMount, root: ConfinedTree) -> ConfinedTree? {
        /// The tree at its mount point, in place or once mounted; nil (with the warning) when it cannot be opened.
        func usable(_ state: String) -> ConfinedTree? {
            do { return try root.subtree(tree.mountPoint) } catch {
                log.warning("litetree \(tree.mountPoint) (priority \(tree.priority))\(state) not usable: \(error)")
                return nil
            }
        }
        guard let server = tree.server else { return usable("") }
        guard let address = environment.resolveHost(server) else {
            log.warning("litetree \(server):\(tree.directory) skipped: cannot resolve \(server)")
            return nil
        }
        do {
            FileTree.closeQuietly(try root.ensureDirectory(tree.mountPoint))
        } catch {
            log.warning("litetree \(server):\(tree.directory) skipped: \(error)")
            return nil
        }
        let mount = StateliteNFSMount(
            server: server, address: address, path: tree.directory, attempts: tree.attempts,
            rounds: environment.litetreeRounds, pauseMilliseconds: environment.retryPauseMilliseconds)
        switch mount.mount(on: root, at: tree.mountPoint) {
        case .success(let attempt):
            log.action(
                "mounted litetree priority \(tree.priority) read-only (vers=\(attempt.version), \(StateliteNFSMount.kernelOptions(attempt, address: address)))",
                from: "\(server):\(tree.directory)", to: tree.mountPoint)
            return usable(" mounted but")
        case .failure(let failed):
            log.warning(
                "litetree \(server):\(tree.directory) would not mount; skipped: \(failed.lines.suffix(3).joined(separator: "; "))"
            )
            return nil
        }
    }
}

public struct StateliteSummary: Sendable, Equatable {
    public var applied = 0
    public var failed = 0
    public var treesMounted = 0
    public var treesSkipped = 0
    public var persistentStore = false
    /// True when `nodeinit.localdisk=` was mounted on `/.sllocal/localmnt`.
    public var localDisk = false
    public var placedRecords = 0
}

extension String {
    func replacingPercentN(with node: String) -> String {
        var result = ""
        var iterator = makeIterator()
        while let character = iterator.next() {
            if character == "%" {
                if let next = iterator.next() {
                    if next == "n" { result += node } else { result.append(character); result.append(next) }
                } else {
                    result.append(character)
                }
            } else {
                result.append(character)
            }
        }
        return result
    }
}
