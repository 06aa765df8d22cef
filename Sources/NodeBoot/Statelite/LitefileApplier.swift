import BootConfig
import NodeSys

/// Applies litefile entries with xCAT's meaning (rc.statelite's ProcessType) and our fixes: the first source that
/// has the path wins for directories too (one whole copy, never a merge of trees); dotfiles are copied; `con`
/// concatenates every litetree copy in priority order and falls back to `/.default` or the image's own file (and
/// is always bind-mounted); a missing path gets an empty writable file or directory instead of nothing.
///
/// Every path is resolved inside the new root, inside each source tree, and inside the image (`ConfinedTree`);
/// a symlink where a litefile path should be is never followed: binds onto it are refused, link-type entries
/// replace it (overlay root only).
final class LitefileApplier {
    struct SourceTree {
        var tree: ConfinedTree
        /// The tree's path as the node sees it (`/.statelite/mnt/<server><dir>`, `/.default`, `/`).
        var display: String
    }

    /// One place a litefile path was found.
    struct Candidate {
        var source: SourceTree
        var status: FileStatus
        var display: String
        var isImage: Bool
    }

    struct Refused: Swift.Error, CustomStringConvertible {
        var description: String
    }

    let root: ConfinedTree
    let image: ConfinedTree
    let trees: [SourceTree]
    let defaults: SourceTree?
    let canChangeImage: Bool
    let log: StateliteLog
    let placed: BootPlacedRecorder

    init(
        root: ConfinedTree, image: ConfinedTree, trees: [SourceTree], defaults: SourceTree?, canChangeImage: Bool,
        log: StateliteLog, placed: BootPlacedRecorder
    ) {
        self.root = root
        self.image = image
        self.trees = trees
        self.defaults = defaults
        self.canChangeImage = canChangeImage
        self.log = log
        self.placed = placed
    }

    static let tmpfsTop = "/.statelite/tmpfs"
    static let persistentTop = "/.statelite/persistent"

    static func clean(_ path: String) -> String {
        var text = path
        while text.hasSuffix("/") && text.count > 1 { text.removeLast() }
        return text
    }

    static func parentPath(_ path: String) -> String {
        let text = clean(path)
        guard let slash = text.lastIndex(of: "/"), slash != text.startIndex else { return "/" }
        return String(text[..<slash])
    }

    /// True when the entry's parent entry is a copy in `/.statelite/tmpfs` (link or tmpfs kinds), so this entry
    /// lives inside that copy and needs no bind or image symlink of its own.
    func insideParentCopy(_ entry: LitefileEntry, _ entries: [LitefileEntry]) -> Bool {
        guard let parent = entry.parent, let parentEntry = entries.first(where: { $0.path == parent }) else {
            return false
        }
        switch parentEntry.option {
        case .link, .tmpfs: return true
        case .localdisk: return !root.isMountPoint("/.sllocal/localmnt")
        default: return false
        }
    }

    // MARK: - Entry

    /// Applies one entry; false when it failed (logged).
    func apply(_ entry: LitefileEntry, in entries: [LitefileEntry]) -> Bool {
        let path = Self.clean(entry.path)
        do {
            let nested = insideParentCopy(entry, entries)
            if !nested && !entry.option.isLinkKind, let status = try root.status(path), status.kind == .symlink {
                // Checked before anything is copied: a bind onto a symlink would follow it.
                throw ConfinedTree.Error.symlinkRefused(
                    tree: "the new root", path: path, target: (try? readLink(root, path)) ?? "?")
            }
            switch entry.option {
            case .link: try applyCopy(entry, path, nested: nested, bind: false)
            case .tmpfs: try applyCopy(entry, path, nested: nested, bind: true)
            case .persistent: try applyPersistent(entry, path, linked: false, nested: nested)
            case .linkPersistent: try applyPersistent(entry, path, linked: true, nested: nested)
            case .readOnly: try applyReadOnly(entry, path, nested: nested)
            case .linkReadOnly: try applyLinkReadOnly(entry, path, nested: nested)
            case .concatenate: try applyConcatenate(entry, path, nested: nested, bind: true)
            case .linkConcatenate: try applyConcatenate(entry, path, nested: nested, bind: false)
            case .localdisk: try applyLocaldisk(entry, path, nested: nested)
            }
            return true
        } catch let error as ConfinedTree.Error {
            if case .symlinkRefused = error {
                log.refusal(
                    "\(entry.path) (\(entry.optionSpelling.isEmpty ? "blank" : entry.optionSpelling)): \(error); nothing written"
                )
            } else {
                log.warning(
                    "\(entry.path) (\(entry.optionSpelling.isEmpty ? "blank" : entry.optionSpelling)) not applied: \(error)"
                )
            }
        } catch let error as Refused {
            log.refusal("\(entry.path): \(error)")
        } catch {
            log.warning("\(entry.path) not applied: \(error)")
        }
        return false
    }

    // MARK: - Sources

    /// Where the path is found: litetree sources in priority order, `/.default`, then the image itself. An empty
    /// directory counts as not found (except the image's own). A symlink is a valid copy source (copied as a
    /// symlink) only when `symlinkOK`; otherwise it is refused with a log line and the search goes on.
    func candidates(_ entry: LitefileEntry, all: Bool, symlinkOK: Bool, includeImage: Bool = true) -> [Candidate] {
        var sources = trees
        if let defaults { sources.append(defaults) }
        var found: [Candidate] = []
        let path = Self.clean(entry.path)
        for source in sources {
            guard let status = try? source.tree.status(path) else { continue }
            let display = (source.display == "/" ? "" : source.display) + path
            if status.kind == .symlink && !symlinkOK {
                let target =
                    (try? source.tree.openParent(path)).flatMap { pair -> String? in
                        defer { FileTree.closeQuietly(pair.directory) }
                        return pair.name.flatMap { try? FileTree.readLink(in: pair.directory, $0) }
                    } ?? "?"
                log.refusal("source \(display) is a symlink (to '\(target)'); not followed, searching on")
                continue
            }
            if entry.isDirectory {
                guard status.kind == .directory || status.kind == .symlink else {
                    log.warning("source \(display) is not a directory; skipped")
                    continue
                }
                if status.kind == .directory && isEmptyDirectory(source.tree, path) { continue }
            } else if status.kind == .directory {
                log.warning("source \(display) is a directory but \(entry.path) is a file entry; skipped")
                continue
            }
            found.append(Candidate(source: source, status: status, display: display, isImage: false))
            if !all { return found }
        }
        if found.isEmpty && includeImage, let status = try? image.status(path) {
            if status.kind == .symlink && !symlinkOK {
                return []
            }
            if entry.isDirectory == (status.kind == .directory) || status.kind == .symlink {
                found.append(
                    Candidate(
                        source: SourceTree(tree: image, display: "/"), status: status, display: "\(path) (image)",
                        isImage: true))
            }
        }
        return found
    }

    func isEmptyDirectory(_ tree: ConfinedTree, _ path: String) -> Bool {
        guard let fd = try? tree.openDirectory(path) else { return true }
        defer { FileTree.closeQuietly(fd) }
        return ((try? FileTree.list(fd, path: path))?.names.isEmpty) ?? true
    }

    /// Replaces `destination` (in the new root) with a copy of `candidate`, or with an empty file or directory.
    func place(_ candidate: Candidate?, entry: LitefileEntry, at destination: String) throws {
        FileTree.closeQuietly(try root.ensureDirectory(Self.parentPath(destination)))
        try root.remove(destination)
        if let candidate {
            try ConfinedTree.copy(from: candidate.source.tree, Self.clean(entry.path), to: root, destination)
            log.action("copied", from: candidate.display, to: destination)
        } else {
            try makeEmpty(entry, at: destination)
            log.warning(
                "\(entry.path) found in no litetree source, not in /.default and not in the image; created it empty at \(destination)"
            )
        }
    }

    func makeEmpty(_ entry: LitefileEntry, at destination: String) throws {
        if entry.isDirectory {
            FileTree.closeQuietly(try root.ensureDirectory(destination))
        } else {
            try root.createEmptyFileIfAbsent(destination)
        }
    }

    // MARK: - Targets in the image

    /// Makes sure `/PATH` exists in the new root as a mount target; a symlink there is refused (never followed).
    func ensureTarget(_ entry: LitefileEntry, _ path: String, recordPlaced: Bool) throws {
        if let status = try root.status(path) {
            if status.kind == .symlink {
                let target = (try? readLink(root, path)) ?? "?"
                throw ConfinedTree.Error.symlinkRefused(tree: "the new root", path: path, target: target)
            }
            if (status.kind == .directory) != entry.isDirectory {
                throw Refused(
                    description:
                        "\(path) in the image is a \(status.kind.rawValue), the litefile entry says \(entry.isDirectory ? "directory" : "file")"
                )
            }
            return
        }
        guard canChangeImage || !recordPlaced else {
            throw Refused(
                description: "\(path) does not exist in the read-only image and there is no overlay to create it in")
        }
        FileTree.closeQuietly(
            try root.ensureDirectory(Self.parentPath(path)) { if recordPlaced { self.placed.placed($0) } })
        try makeEmpty(entry, at: path)
        if recordPlaced { placed.placed(path) }
        log.action("created mount point", to: path)
    }

    func readLink(_ tree: ConfinedTree, _ path: String) throws -> String {
        let (directory, name) = try tree.openParent(path)
        defer { FileTree.closeQuietly(directory) }
        guard let name else { return "" }
        return try FileTree.readLink(in: directory, name)
    }

    /// Points `/PATH` at `/.statelite/tmpfs/PATH`: already so in a liteimg-prepared image; replaced in the overlay
    /// (recorded as boot-placed); bind-mounted instead when the image is read-only and not prepared.
    func linkTarget(_ entry: LitefileEntry, _ path: String) throws {
        let wanted = Self.tmpfsTop + path
        if let status = try root.status(path), status.kind == .symlink {
            let current = try readLink(root, path)
            if current == wanted || current.hasSuffix(".statelite/tmpfs" + path) {
                log.info("\(path) already links to \(wanted) (liteimg-prepared image)")
                return
            }
            if canChangeImage {
                log.action(
                    "replaced the image's symlink \(path) -> '\(current)' (not followed) with a symlink", to: wanted)
            }
        }
        if canChangeImage {
            FileTree.closeQuietly(try root.ensureDirectory(Self.parentPath(path)) { self.placed.placed($0) })
            try root.replaceWithSymlink(path, target: wanted)
            placed.placed(path)
            log.action("symlinked \(path)", to: wanted)
        } else {
            log.warning(
                "\(path): the image is read-only (no overlay) and not prepared by liteimg; bind-mounting \(wanted) instead of a symlink"
            )
            try ensureTarget(entry, path, recordPlaced: false)
            try ConfinedTree.bind(from: root, wanted, onto: root, path)
            log.action("bind-mounted", from: wanted, to: path)
        }
    }

    // MARK: - Kinds

    /// blank/link/tmpfs,rw (`bind` false) and tmpfs/rw/bind (`bind` true).
    func applyCopy(_ entry: LitefileEntry, _ path: String, nested: Bool, bind: Bool) throws {
        let copy = Self.tmpfsTop + path
        try place(candidates(entry, all: false, symlinkOK: true).first, entry: entry, at: copy)
        if nested { return }
        try expose(copy, entry, path, bind: bind)
    }

    /// A copy made visible at `/PATH`: bind-mounted over it, or reached through the link-type symlink.
    private func expose(_ copy: String, _ entry: LitefileEntry, _ path: String, bind: Bool) throws {
        if bind {
            try ensureTarget(entry, path, recordPlaced: entry.parent == nil)
            try ConfinedTree.bind(from: root, copy, onto: root, path)
            log.action("bind-mounted", from: copy, to: path)
        } else {
            try linkTarget(entry, path)
        }
    }

    /// persistent/bind,persistent and link,persistent: seeded once into the persistent store, then bound (or
    /// linked through `/.statelite/tmpfs`).
    func applyPersistent(_ entry: LitefileEntry, _ path: String, linked: Bool, nested: Bool) throws {
        let store = Self.persistentTop + path
        if try root.status(store) == nil {
            try place(candidates(entry, all: false, symlinkOK: true).first, entry: entry, at: store)
            log.action("seeded the persistent copy (first boot for this path)", to: store)
        } else {
            log.info("kept the existing persistent copy \(store)")
        }
        if linked {
            let link = Self.tmpfsTop + path
            FileTree.closeQuietly(try root.ensureDirectory(Self.parentPath(link)))
            try root.replaceWithSymlink(link, target: store)
            log.action("symlinked \(link)", to: store)
            if !nested { try linkTarget(entry, path) }
        } else {
            if nested {
                // The target lives in the parent's tmpfs copy: a placeholder there, then the bind.
                let inCopy = Self.tmpfsTop + path
                try root.remove(inCopy)
                try makeEmpty(entry, at: inCopy)
            }
            try expose(store, entry, path, bind: true)
        }
    }

    /// ro: the first source is bound read-only over `/PATH` (a litetree source stays live); found only in the
    /// image, the image's own file is bound read-only over itself (with an overlay root it would be writable).
    func applyReadOnly(_ entry: LitefileEntry, _ path: String, nested: Bool) throws {
        guard let candidate = candidates(entry, all: false, symlinkOK: false).first else {
            throw Refused(description: "found in no source and not in the image (or only as a symlink); left as it is")
        }
        if nested {
            // Free the parent's tmpfs copy of this path (xCAT #2090): an empty placeholder is enough under a bind.
            let inCopy = Self.tmpfsTop + path
            try root.remove(inCopy)
            try makeEmpty(entry, at: inCopy)
        }
        try ensureTarget(entry, path, recordPlaced: entry.parent == nil)
        try ConfinedTree.bind(from: candidate.source.tree, path, onto: root, path, readOnly: true)
        log.action("bind-mounted read-only", from: candidate.display, to: path)
    }

    /// link,ro: `/.statelite/tmpfs/PATH` is a symlink to the source as the node sees it.
    func applyLinkReadOnly(_ entry: LitefileEntry, _ path: String, nested: Bool) throws {
        guard let candidate = candidates(entry, all: false, symlinkOK: false, includeImage: false).first else {
            log.warning(
                "\(path) (link,ro) found in no litetree source and not in /.default; the image's own file stays")
            if !nested && canChangeImage { return }
            return
        }
        let link = Self.tmpfsTop + path
        FileTree.closeQuietly(try root.ensureDirectory(Self.parentPath(link)))
        try root.replaceWithSymlink(link, target: candidate.display)
        log.action("symlinked \(link)", to: candidate.display)
        if !nested { try linkTarget(entry, path) }
    }

    /// con/link,con: every litetree copy, in priority order, concatenated into `/.statelite/tmpfs/PATH` (the
    /// first one's owner and mode kept); none: `/.default`'s or the image's file. con is always bind-mounted.
    func applyConcatenate(_ entry: LitefileEntry, _ path: String, nested: Bool, bind: Bool) throws {
        let destination = Self.tmpfsTop + path
        var parts = candidates(entry, all: true, symlinkOK: false, includeImage: false).filter {
            $0.source.display != "/.default"
        }
        if parts.isEmpty, let fallback = candidates(entry, all: false, symlinkOK: false).first {
            parts = [fallback]
        }
        if let first = parts.first {
            try place(first, entry: entry, at: destination)
            for part in parts.dropFirst() {
                let bytes = try part.source.tree.readFile(path)
                try root.writeFile(destination, bytes, append: true)
                log.action("appended", from: part.display, to: destination)
            }
        } else {
            try place(nil, entry: entry, at: destination)
        }
        if nested { return }
        try expose(destination, entry, path, bind: bind)
    }

    /// localdisk: copied once to `/.sllocal/localmnt/PATH` and bound; without a local disk mounted there
    /// (`nodeinit.localdisk=`), the entry behaves as tmpfs (and says so).
    func applyLocaldisk(_ entry: LitefileEntry, _ path: String, nested: Bool) throws {
        guard root.isMountPoint("/.sllocal/localmnt") else {
            log.warning(
                "\(path) (localdisk): no local disk mounted on /.sllocal/localmnt (nodeinit.localdisk=); kept in RAM like tmpfs, LOST at reboot"
            )
            try applyCopy(entry, path, nested: nested, bind: true)
            return
        }
        let local = "/.sllocal/localmnt" + path
        if try root.status(local) == nil {
            try place(candidates(entry, all: false, symlinkOK: true).first, entry: entry, at: local)
            log.action("seeded the local-disk copy (first boot for this path)", to: local)
        } else {
            log.info("kept the existing local-disk copy \(local)")
        }
        try expose(local, entry, path, bind: true)
    }

    /// `/.statelite/tmpfs/etc/mtab` -> `/proc/mounts`, as xCAT does at the end.
    func linkMtab() {
        do {
            FileTree.closeQuietly(try root.ensureDirectory(Self.tmpfsTop + "/etc"))
            try root.replaceWithSymlink(Self.tmpfsTop + "/etc/mtab", target: "/proc/mounts")
            log.action("symlinked \(Self.tmpfsTop)/etc/mtab", to: "/proc/mounts")
        } catch {
            log.warning("cannot link \(Self.tmpfsTop)/etc/mtab: \(error)")
        }
    }
}
