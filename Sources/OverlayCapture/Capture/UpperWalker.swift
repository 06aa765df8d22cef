import NodeSys
import SystemPackage

/// Walks an overlay upper directory and writes it as an OCI layer: one tar member per changed entry,
/// whiteouts for deletions and opaque markers for replaced directories.
///
/// The walk is fd-anchored: every directory is opened with O_NOFOLLOW|O_DIRECTORY relative to its parent and
/// every entry is examined with fstatat(AT_SYMLINK_NOFOLLOW), so a symlinked directory is stored as a symlink and
/// never followed. Entries are visited in byte order of their names, so the same upper gives the same layer.
final class UpperWalker<Sink: ByteSink> {
    enum Error: Swift.Error, CustomStringConvertible {
        case redirect(path: PathBytes)
        case metacopyWithoutMergedView(path: PathBytes)
        case io(path: PathBytes, FileTree.Error)

        var description: String {
            switch self {
            case .redirect(let path):
                return
                    "upper entry '\(DisplayText.safe(path))' carries an overlay redirect (renamed directory); the upper is not a "
                    + "plain diff: mount the overlay with redirect_dir=off"
            case .metacopyWithoutMergedView(let path):
                return
                    "upper entry '\(DisplayText.safe(path))' is a metacopy (data lives in the lower layer); pass the merged view"
            case .io(let path, let error):
                return "/\(DisplayText.safe(path)): \(error)"
            }
        }
    }

    private struct InodeKey: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    var writer: TarWriter<Sink>
    var summary = CaptureSummary()
    private let exclusions: ExclusionList
    private let names: OwnerNames
    private let placed: [PathBytes: BootPlacedRecord]
    private let mergedRoot: FileDescriptor?
    private let recordPaths: Bool
    /// False for summaries: file data is not read and zeros of the same size stand in for it.
    var readFileData = true
    private var linkTargets: [InodeKey: PathBytes] = [:]
    private let buffer: UnsafeMutableRawBufferPointer

    init(
        sink: Sink, exclusions: ExclusionList, names: OwnerNames, placed: [BootPlacedRecord],
        mergedRoot: FileDescriptor?, recordPaths: Bool
    ) {
        writer = TarWriter(sink: sink)
        self.exclusions = exclusions
        self.names = names
        self.placed = Dictionary(placed.map { (PathBytes($0.path), $0) }, uniquingKeysWith: { first, _ in first })
        self.mergedRoot = mergedRoot
        self.recordPaths = recordPaths
        summary.exclusionPatterns = exclusions.patterns
        if recordPaths { summary.paths = [] }
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
    }

    deinit { buffer.deallocate() }

    /// Data runs at least this long go through sendfile when the output allows it; shorter ones are cheaper
    /// through the buffer, which batches many small files into one write.
    static var inKernelCopyThreshold: Int64 { 256 * 1024 }

    /// Writes the whole upper under `root` and ends the archive.
    func run(root: FileDescriptor) throws {
        try walk(root, relative: PathBytes([]), components: [])
        try writer.finish()
        summary.streamBytes = writer.streamBytes
    }

    /// Which xattrs go into the layer: capabilities and other `security.*`, POSIX ACLs and `user.*`;
    /// never overlay's own bookkeeping (`trusted.overlay.*`, `user.overlay.*`) nor other `trusted.*`.
    static func keepInLayer(_ name: String) -> Bool {
        if name.hasPrefix("user.overlay.") { return false }
        return name.hasPrefix("user.") || name.hasPrefix("security.") || name == "system.posix_acl_access"
            || name == "system.posix_acl_default"
    }

    static func overlayAttribute(_ attributes: [ExtendedAttribute], _ suffix: String) -> [UInt8]? {
        attributes.first { $0.name == "trusted.overlay." + suffix || $0.name == "user.overlay." + suffix }?.value
    }

    private func walk(_ directory: FileDescriptor, relative: PathBytes, components: [PathBytes]) throws {
        let listing: FileTree.Listing
        do { listing = try FileTree.list(directory, path: relative.description) } catch {
            throw Error.io(path: relative, error)
        }
        for name in listing.entries {
            try visit(directory, name: name, relative: relative.appending(name), components: components + [name])
        }
    }

    private func visit(_ directory: FileDescriptor, name: PathBytes, relative: PathBytes, components: [PathBytes])
        throws
    {
        let status: FileStatus
        do {
            guard let found = try FileTree.statusIfPresent(in: directory, name) else {
                summary.skipped.append(.init(path: relative, reason: "vanished during capture"))
                return
            }
            status = found
        } catch { throw Error.io(path: relative, error) }

        if exclusions.excludes(components) {
            summary.excluded += 1
            return
        }
        if name.hasPrefix(OCIWhiteout.prefix) {
            summary.skipped.append(.init(path: relative, reason: "names starting with .wh. are reserved for whiteouts"))
            return
        }
        // Most captures have no boot-placed records: skip building the lookup key for every entry then.
        let unchangedPlacement = !placed.isEmpty && (placed["/" + relative]?.isUnchanged(status) ?? false)
        if unchangedPlacement { summary.unchangedBootPlaced += 1 }

        do {
            switch status.kind {
            case .characterDevice where status.deviceMajor == 0 && status.deviceMinor == 0:
                try emitWhiteout(relative: relative, status: status)
            case .directory:
                try visitDirectory(
                    directory, name: name, relative: relative, components: components, status: status,
                    emitEntry: !unchangedPlacement)
            case _ where unchangedPlacement:
                return
            case .regular:
                try emitRegular(directory, name: name, relative: relative, status: status)
            case .symlink:
                let target = try FileTree.readLinkBytes(in: directory, name)
                try emitNode(directory, name: name, relative: relative, status: status, kind: .symlink(target: target))
            case .characterDevice:
                try emitNode(
                    directory, name: name, relative: relative, status: status,
                    kind: .characterDevice(major: status.deviceMajor, minor: status.deviceMinor))
            case .blockDevice:
                try emitNode(
                    directory, name: name, relative: relative, status: status,
                    kind: .blockDevice(major: status.deviceMajor, minor: status.deviceMinor))
            case .fifo:
                try emitNode(directory, name: name, relative: relative, status: status, kind: .fifo)
            case .socket:
                summary.skipped.append(.init(path: relative, reason: "socket (cannot be stored in a layer)"))
            case .unknown:
                summary.skipped.append(.init(path: relative, reason: "unknown file type"))
            }
        } catch let error as FileTree.Error {
            if error.errno == .noSuchFileOrDirectory {
                summary.skipped.append(.init(path: relative, reason: "vanished during capture"))
                return
            }
            throw Error.io(path: relative, error)
        }
    }

    private func header(
        _ relative: PathBytes, _ status: FileStatus, _ kind: TarEntry.Kind, size: Int64 = 0,
        xattrs: [ExtendedAttribute] = []
    ) -> TarEntry {
        TarEntry(
            path: relative, kind: kind, permissions: status.permissions, uid: status.uid, gid: status.gid,
            userName: names.users[status.uid] ?? "", groupName: names.groups[status.gid] ?? "", size: size,
            modified: status.mtime, xattrs: xattrs)
    }

    private func record(_ path: PathBytes, _ kind: String, _ size: Int64) {
        if recordPaths { summary.paths?.append(.init(path: path, kind: kind, size: size)) }
    }

    /// A deleted path: an empty regular file `.wh.<name>` in the same directory (mode 0600, as moby writes it).
    private func emitWhiteout(relative: PathBytes, status: FileStatus) throws {
        let (parent, name) = relative.parentAndName
        var entry = header(parent + OCIWhiteout.prefix + name, status, .regular)
        entry.permissions = 0o600
        try writer.append(entry)
        summary.whiteouts.add(0)
        record("/" + relative, "whiteout", 0)
    }

    private func visitDirectory(
        _ parent: FileDescriptor, name: PathBytes, relative: PathBytes, components: [PathBytes], status: FileStatus,
        emitEntry: Bool
    ) throws {
        let directory = try FileTree.openDirectory(in: parent, name)
        defer { FileTree.closeQuietly(directory) }
        let attributes = try FileTree.extendedAttributes(of: directory, path: relative.description, keep: { _ in true })
        if UpperWalker.overlayAttribute(attributes, "redirect") != nil { throw Error.redirect(path: "/" + relative) }
        if emitEntry {
            try writer.append(
                header(
                    relative + "/", status, .directory,
                    xattrs: attributes.filter { UpperWalker.keepInLayer($0.name) }))
            summary.directories.add(0)
            record("/" + relative, "directory", 0)
        }
        if UpperWalker.overlayAttribute(attributes, "opaque") == Array("y".utf8) {
            // Written right after the directory, before any sibling, as the OCI spec recommends.
            var marker = header(relative + "/" + OCIWhiteout.opaqueMarker, status, .regular)
            marker.permissions = 0o600
            try writer.append(marker)
            summary.opaqueDirectories.add(0)
            record("/" + relative, "opaque", 0)
        }
        try walk(directory, relative: relative, components: components)
    }

    /// Symlinks, devices and FIFOs: header only (plus hard-link detection).
    private func emitNode(
        _ directory: FileDescriptor, name: PathBytes, relative: PathBytes, status: FileStatus, kind: TarEntry.Kind
    ) throws {
        if try emitHardLinkIfSeen(relative, status) { return }
        let attributes = try FileTree.extendedAttributes(in: directory, name, keep: UpperWalker.keepInLayer)
        try writer.append(header(relative, status, kind, xattrs: attributes))
        switch kind {
        case .symlink: summary.symlinks.add(0); record("/" + relative, "symlink", 0)
        case .fifo: summary.fifos.add(0); record("/" + relative, "fifo", 0)
        default: summary.devices.add(0); record("/" + relative, "device", 0)
        }
    }

    /// Second and later names of an inode with several links become tar hard links to the first name written.
    private func emitHardLinkIfSeen(_ relative: PathBytes, _ status: FileStatus) throws -> Bool {
        guard status.linkCount > 1 else { return false }
        let key = InodeKey(device: status.device, inode: status.inode)
        if let first = linkTargets[key] {
            try writer.append(header(relative, status, .hardLink(target: first)))
            summary.hardLinks.add(0)
            record("/" + relative, "hardlink", 0)
            return true
        }
        linkTargets[key] = relative
        return false
    }

    private func emitRegular(_ directory: FileDescriptor, name: PathBytes, relative: PathBytes, status: FileStatus)
        throws
    {
        let file = try FileTree.openForReading(in: directory, name)
        defer { FileTree.closeQuietly(file) }
        // The display form (escaped) is built only for an error message: FileTree takes it as an autoclosure.
        let attributes = try FileTree.extendedAttributes(of: file, path: relative.description, keep: { _ in true })
        if status.size == 0, UpperWalker.overlayAttribute(attributes, "whiteout") != nil {
            try emitWhiteout(relative: relative, status: status)
            return
        }
        if UpperWalker.overlayAttribute(attributes, "redirect") != nil { throw Error.redirect(path: "/" + relative) }
        if try emitHardLinkIfSeen(relative, status) { return }

        var source = file
        var sourceStatus = status
        var mergedFile: FileDescriptor?
        defer { if let mergedFile { FileTree.closeQuietly(mergedFile) } }
        if UpperWalker.overlayAttribute(attributes, "metacopy") != nil {
            guard let mergedRoot else { throw Error.metacopyWithoutMergedView(path: "/" + relative) }
            let opened = try MergedView.open(relative, in: mergedRoot)
            mergedFile = opened
            source = opened
            sourceStatus = try FileTree.status(of: opened, path: relative.description)
            sourceStatus.permissions = status.permissions
        }
        let size = sourceStatus.size
        try writer.append(
            header(
                relative, status, .regular, size: size,
                xattrs: attributes.filter { UpperWalker.keepInLayer($0.name) }))
        guard readFileData else {
            try writer.appendZeros(size)
            summary.regularFiles.add(size)
            record("/" + relative, "file", size)
            return
        }
        let torn = try copyData(
            source, size: size, mayHaveHoles: sourceStatus.mayHaveHoles, path: relative.description)
        let after = try FileTree.status(of: source, path: relative.description)
        if torn || after.size != sourceStatus.size || after.mtime != sourceStatus.mtime {
            summary.addChangedWhileReading("/" + relative)
        }
        summary.regularFiles.add(size)
        record("/" + relative, "file", size)
    }

    /// Copies exactly `size` bytes of `file` into the open tar entry. Holes (SEEK_HOLE) are written as zeros
    /// without reading them. Returns true when the file ended early and the rest was padded with zeros.
    private func copyData(
        _ file: FileDescriptor, size: Int64, mayHaveHoles: Bool, path: @autoclosure () -> String
    ) throws -> Bool {
        var offset: Int64 = 0
        if size >= 1 << 20 { FileTree.adviseSequential(file) }
        while offset < size {
            var dataEnd = size
            if mayHaveHoles {
                guard let dataStart = try FileTree.nextData(file, from: offset, path: path()) else {
                    try writer.appendZeros(size - offset)  // only a hole remains
                    return false
                }
                if dataStart > offset {
                    try writer.appendZeros(min(dataStart, size) - offset)
                    offset = min(dataStart, size)
                    if offset >= size { break }
                }
                dataEnd = min(try FileTree.nextHole(file, from: offset, path: path()) ?? size, size)
            }
            if dataEnd - offset >= UpperWalker.inKernelCopyThreshold,
                let copied = try writer.appendFileData(
                    from: file, offset: offset, count: dataEnd - offset, path: path())
            {
                offset += copied
                if offset < dataEnd {
                    try writer.appendZeros(size - offset)  // shrank while copied
                    return true
                }
                continue
            }
            while offset < dataEnd {
                let want = Int(min(Int64(buffer.count), dataEnd - offset))
                let count = try FileTree.read(
                    file, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]),
                    at: offset, path: path())
                if count == 0 {
                    try writer.appendZeros(size - offset)  // shrank while read: keep the header's promise
                    return true
                }
                try writer.appendData(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
                offset += Int64(count)
            }
        }
        return false
    }
}
