import NodeSys
import OverlayCapture

/// Streaming reader for ustar, PAX (`x` and `g` headers) and GNU long names (`L`/`K`).
/// `next()` returns each member's header; its data is read with `readData(into:)` or skipped automatically
/// by the following `next()`.
public struct TarReader<Source: ByteSource> {
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case truncated(offset: Int64, afterPath: PathBytes?)
        /// The stream ended on a block boundary without the two zero blocks that end an archive.
        case missingEndMarker(offset: Int64, afterPath: PathBytes?)
        /// Non-zero bytes after the end-of-archive marker (a second archive, or garbage).
        case dataAfterEnd(offset: Int64)
        case badChecksum(offset: Int64)
        case badNumber(field: String, offset: Int64)
        /// A well-formed number too large for its field (a uid of 4294967296 is refused, never wrapped to 0).
        case numberOutOfRange(field: String, value: String, limit: UInt64, offset: Int64)
        case badPaxRecord(offset: Int64)
        case oversizedMetadata(kind: String, size: Int64)
        case unsupportedType(path: PathBytes, typeflag: UInt8)

        public var description: String {
            switch self {
            case .truncated(let offset, let path):
                return "tar stream ends early, at byte \(offset)"
                    + (path.map { " (in or after '\(DisplayText.safe($0))')" } ?? "")
            case .missingEndMarker(let offset, let path):
                return "tar stream ends at byte \(offset) without its end-of-archive marker (two zero blocks): "
                    + "truncated" + (path.map { " after '\(DisplayText.safe($0))'" } ?? "")
            case .dataAfterEnd(let offset):
                return "non-zero data at byte \(offset), after the end-of-archive marker"
            case .badChecksum(let offset): return "tar header at byte \(offset) has a bad checksum"
            case .badNumber(let field, let offset): return "tar header at byte \(offset) has an invalid \(field) field"
            case .numberOutOfRange(let field, let value, let limit, let offset):
                return
                    "tar header at byte \(offset) has \(field) \(DisplayText.safe(value, limit: 32)), out of range (0...\(limit))"
            case .badPaxRecord(let offset): return "malformed pax record in header at byte \(offset)"
            case .oversizedMetadata(let kind, let size):
                return "\(kind) of \(size) bytes exceeds the limit (16 MiB per entry, 1 MiB of global records)"
            case .unsupportedType(let path, let flag):
                let shown = flag >= 0x20 && flag < 0x7f ? "'\(Character(Unicode.Scalar(flag)))'" : "\(flag)"
                return "tar entry '\(DisplayText.safe(path))' has unsupported type \(shown)"
            }
        }
    }

    private var source: Source
    private let buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    private var atEnd = false
    /// The end-of-archive marker and everything after it were read: `next()` returns nil from now on.
    private var archiveEnded = false
    /// Stream offset of the next unread byte.
    public private(set) var offset: Int64 = 0
    private var remaining: Int64 = 0
    private var padding = 0
    private var lastPath: PathBytes?
    private var globals: [String: [UInt8]] = [:]
    private static var metadataLimit: Int64 { 16 << 20 }
    /// Runs shorter than this are read through the buffer even from a `SkippingByteSource`.
    private static var skipThreshold: Int64 { 64 << 10 }
    /// Global (`g`) records apply to every later entry and are kept for the whole stream: 1 MiB in all.
    private static var globalRecordsLimit: Int { 1 << 20 }
    private static func recordBytes(_ records: [String: [UInt8]]) -> Int {
        records.reduce(0) { $0 + $1.key.utf8.count + $1.value.count }
    }

    public init(source: Source) {
        self.source = source
        self.buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)
    }

    /// Frees the read buffer; call once when done (the reader is a value type and cannot free it itself).
    public func close() { buffer.deallocate() }

    /// Data bytes of the current entry not yet read.
    public var remainingData: Int64 { remaining }

    public mutating func next() throws -> TarEntry? {
        try skip(remaining + Int64(padding))
        remaining = 0
        padding = 0
        if archiveEnded { return nil }
        var pax: [String: [UInt8]] = globals
        var longName: [UInt8]?
        var longLink: [UInt8]?
        while true {
            let headerOffset = offset
            guard let block = try readBlock() else {
                throw Error.missingEndMarker(offset: headerOffset, afterPath: lastPath)
            }
            if block.allSatisfy({ $0 == 0 }) {
                try readEndOfArchive()
                return nil
            }
            try verifyChecksum(block, at: headerOffset)
            let flag = block[TarHeader.Offset.typeflag]
            let size = try number(block, TarHeader.Offset.size, 12, "size", headerOffset)
            switch flag {
            case UInt8(ascii: "x"), UInt8(ascii: "g"):
                let data = try readMetadata(size, kind: "pax header")
                let records = try parsePax(data, at: headerOffset)
                if flag == UInt8(ascii: "g") {
                    for (key, value) in records { globals[key] = value; pax[key] = value }
                    let total = TarReader.recordBytes(globals)
                    if total > TarReader.globalRecordsLimit {
                        throw Error.oversizedMetadata(
                            kind: "pax global records (at byte \(headerOffset))", size: Int64(total))
                    }
                } else {
                    for (key, value) in records { pax[key] = value }
                }
                // Several `x` headers before one entry add up: bounded like a single one.
                let total = TarReader.recordBytes(pax)
                if total > Int(TarReader.metadataLimit) {
                    throw Error.oversizedMetadata(
                        kind: "pax records for one entry (at byte \(headerOffset))", size: Int64(total))
                }
                continue
            case UInt8(ascii: "L"):
                longName = trimNul(try readMetadata(size, kind: "GNU long name"))
                continue
            case UInt8(ascii: "K"):
                longLink = trimNul(try readMetadata(size, kind: "GNU long link"))
                continue
            default:
                break
            }
            var entry = try ustarEntry(block, at: headerOffset)
            if let name = longName { entry.path = PathBytes(name) }
            if let link = longLink { entry.kind = withLink(entry.kind, PathBytes(link)) }
            try applyPax(pax, to: &entry, at: headerOffset)
            lastPath = entry.path
            if !TarReader.isSupported(flag) { throw Error.unsupportedType(path: entry.path, typeflag: flag) }
            if pax.keys.contains(where: { $0.hasPrefix("GNU.sparse.") }) {
                throw Error.unsupportedType(path: entry.path, typeflag: UInt8(ascii: "S"))
            }
            // Hard links, symlinks, devices and directories carry no data whatever the size field says,
            // except that old writers sometimes give sizes to links; those bytes are skipped.
            remaining = (flag == UInt8(ascii: "0") || flag == 0 || flag == UInt8(ascii: "7")) ? entry.size : 0
            let skipped = entry.size - remaining
            if skipped > 0, case .hardLink = entry.kind { try skip(skipped + Int64(TarHeader.padding(skipped))) }
            entry.size = remaining
            padding = TarHeader.padding(remaining)
            return entry
        }
    }

    /// Reads up to `buffer.count` data bytes of the current entry; 0 when its data is exhausted.
    public mutating func readData(into target: UnsafeMutableRawBufferPointer) throws -> Int {
        let want = Int(min(Int64(target.count), remaining))
        guard want > 0 else { return 0 }
        if start == end { try refill() }
        let count = min(want, end - start)
        guard count > 0 else { throw Error.truncated(offset: offset, afterPath: lastPath) }
        UnsafeMutableRawBufferPointer(rebasing: target[0..<count])
            .copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[start..<(start + count)]))
        start += count
        offset += Int64(count)
        remaining -= Int64(count)
        return count
    }

    // MARK: - blocks

    /// After a zero block: the second one must follow, and whatever comes after it (writers pad to a record
    /// size) must be zeros too, to the end of the stream. Reading to the end also lets a compressed
    /// source check that its last member or frame is complete.
    private mutating func readEndOfArchive() throws {
        let secondOffset = offset
        guard let second = try readBlock() else {
            throw Error.missingEndMarker(offset: secondOffset, afterPath: lastPath)
        }
        // A lone zero block followed by more members: refused rather than read as the end (which would
        // silently drop the rest) or skipped (which no writer needs).
        guard second.allSatisfy({ $0 == 0 }) else { throw Error.dataAfterEnd(offset: secondOffset) }
        while true {
            if start == end {
                try refill()
                if start == end { break }
            }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[start..<end])
            if let nonZero = chunk.firstIndex(where: { $0 != 0 }) {
                throw Error.dataAfterEnd(offset: offset + Int64(nonZero))
            }
            offset += Int64(end - start)
            start = end
        }
        archiveEnded = true
    }

    private mutating func refill() throws {
        if start == end { start = 0; end = 0 }
        guard !atEnd else { return }
        let count = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[end...]))
        if count == 0 { atEnd = true }
        end += count
    }

    /// The next 512-byte block, or nil at a clean end of stream.
    private mutating func readBlock() throws -> [UInt8]? {
        var block: [UInt8] = []
        block.reserveCapacity(TarHeader.blockSize)
        while block.count < TarHeader.blockSize {
            if start == end {
                if start > 0 { start = 0; end = 0 }
                try refill()
                if start == end {
                    if block.isEmpty { return nil }
                    throw Error.truncated(offset: offset, afterPath: lastPath)
                }
            }
            let take = min(TarHeader.blockSize - block.count, end - start)
            block.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[start..<(start + take)]))
            start += take
            offset += Int64(take)
        }
        return block
    }

    private mutating func skip(_ count: Int64) throws {
        var left = count
        while left > 0 {
            // Past what is buffered, a source that can skip passes over large runs without reading them.
            if start == end, left >= Self.skipThreshold, let skipping = source as? any SkippingByteSource {
                let skipped = try skipping.skip(left)
                if skipped == 0 { throw Error.truncated(offset: offset, afterPath: lastPath) }
                offset += skipped
                left -= skipped
                continue
            }
            if start == end {
                try refill()
                if start == end { throw Error.truncated(offset: offset, afterPath: lastPath) }
            }
            let take = Int(min(left, Int64(end - start)))
            start += take
            offset += Int64(take)
            left -= Int64(take)
        }
    }

    private mutating func readMetadata(_ size: Int64, kind: String) throws -> [UInt8] {
        guard size <= TarReader.metadataLimit else { throw Error.oversizedMetadata(kind: kind, size: size) }
        var data: [UInt8] = []
        data.reserveCapacity(Int(size))
        var left = Int(size)
        while left > 0 {
            if start == end {
                try refill()
                if start == end { throw Error.truncated(offset: offset, afterPath: lastPath) }
            }
            let take = min(left, end - start)
            data.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[start..<(start + take)]))
            start += take
            offset += Int64(take)
            left -= take
        }
        try skip(Int64(TarHeader.padding(size)))
        return data
    }

    // MARK: - fields

    private func verifyChecksum(_ block: [UInt8], at headerOffset: Int64) throws {
        let stored = try number(block, TarHeader.Offset.checksum, 8, "checksum", headerOffset)
        // The checksum field counts as eight spaces.
        let field = TarHeader.Offset.checksum..<(TarHeader.Offset.checksum + 8)
        var unsigned = 8 * 0x20
        var signed = 8 * 0x20
        for index in 0..<field.lowerBound {
            unsigned += Int(block[index])
            signed += Int(Int8(bitPattern: block[index]))
        }
        for index in field.upperBound..<block.count {
            unsigned += Int(block[index])
            signed += Int(Int8(bitPattern: block[index]))
        }
        guard stored == Int64(unsigned) || stored == Int64(signed) else {
            throw Error.badChecksum(offset: headerOffset)
        }
    }

    /// Parses an octal (NUL/space terminated) or GNU base-256 numeric field.
    func number(_ block: [UInt8], _ at: Int, _ width: Int, _ field: String, _ headerOffset: Int64) throws -> Int64 {
        let bytes = block[at..<(at + width)]
        if let first = bytes.first, first & 0x80 != 0 {
            guard first == 0x80 else { throw Error.badNumber(field: field, offset: headerOffset) }
            var value: Int64 = 0
            for byte in bytes.dropFirst() {
                guard value < (Int64.max >> 8) else { throw Error.badNumber(field: field, offset: headerOffset) }
                value = value << 8 | Int64(byte)
            }
            return value
        }
        var value: Int64 = 0
        var seenDigit = false
        for byte in bytes {
            if byte == 0 || (byte == 0x20 && seenDigit) { break }
            if byte == 0x20 { continue }
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "7"), value < (Int64.max >> 3) else {
                throw Error.badNumber(field: field, offset: headerOffset)
            }
            value = value << 3 | Int64(byte - UInt8(ascii: "0"))
            seenDigit = true
        }
        return value
    }

    private func text(_ block: [UInt8], _ at: Int, _ width: Int) -> [UInt8] {
        trimNul(Array(block[at..<(at + width)]))
    }

    private func trimNul(_ bytes: [UInt8]) -> [UInt8] {
        if let zero = bytes.firstIndex(of: 0) { return Array(bytes[..<zero]) }
        return bytes
    }

    /// A uid, gid or device number: 0...UInt32.max, refused (never wrapped) beyond.
    private func id(_ value: Int64, _ field: String, _ headerOffset: Int64) throws -> UInt32 {
        guard let id = UInt32(exactly: value) else {
            throw Error.numberOutOfRange(
                field: field, value: String(value), limit: UInt64(UInt32.max), offset: headerOffset)
        }
        return id
    }

    private func ustarEntry(_ block: [UInt8], at headerOffset: Int64) throws -> TarEntry {
        typealias O = TarHeader.Offset
        var name = text(block, O.name, 100)
        let isUstar = Array(block[O.magic..<(O.magic + 5)]) == Array("ustar".utf8)
        if isUstar {
            let prefix = text(block, O.prefix, 155)
            if !prefix.isEmpty { name = prefix + [UInt8(ascii: "/")] + name }
        }
        let path = PathBytes(name)
        let link = PathBytes(text(block, O.linkname, 100))
        let mode = try number(block, O.mode, 8, "mode", headerOffset)
        let uid = try id(try number(block, O.uid, 8, "uid", headerOffset), "uid", headerOffset)
        let gid = try id(try number(block, O.gid, 8, "gid", headerOffset), "gid", headerOffset)
        let size = try number(block, O.size, 12, "size", headerOffset)
        guard size <= Int64.max / 2 else { throw Error.badNumber(field: "size", offset: headerOffset) }
        let mtime = try number(block, O.mtime, 12, "mtime", headerOffset)
        let flag = block[O.typeflag]
        var major: UInt32 = 0
        var minor: UInt32 = 0
        if flag == UInt8(ascii: "3") || flag == UInt8(ascii: "4") {
            major = try id(try number(block, O.devmajor, 8, "devmajor", headerOffset), "devmajor", headerOffset)
            minor = try id(try number(block, O.devminor, 8, "devminor", headerOffset), "devminor", headerOffset)
        }
        let kind: TarEntry.Kind
        switch flag {
        case UInt8(ascii: "1"): kind = .hardLink(target: link)
        case UInt8(ascii: "2"): kind = .symlink(target: link)
        case UInt8(ascii: "3"): kind = .characterDevice(major: major, minor: minor)
        case UInt8(ascii: "4"): kind = .blockDevice(major: major, minor: minor)
        case UInt8(ascii: "5"): kind = .directory
        case UInt8(ascii: "6"): kind = .fifo
        default:
            kind = (flag == 0 || flag == UInt8(ascii: "0")) && path.hasSuffix("/") && size == 0 ? .directory : .regular
        }
        return TarEntry(
            path: path, kind: kind, permissions: UInt32(truncatingIfNeeded: mode & 0o7777),
            uid: uid, gid: gid,
            userName: isUstar ? String(decoding: text(block, O.uname, 32), as: UTF8.self) : "",
            groupName: isUstar ? String(decoding: text(block, O.gname, 32), as: UTF8.self) : "",
            size: size, modified: FileTimestamp(seconds: mtime, nanoseconds: 0))
    }

    /// Member types a layer may carry: regular (`0`, NUL, contiguous `7`), links, devices, directories, FIFOs.
    /// GNU sparse (`S`), multi-volume and other vendor types are refused rather than misread.
    static func isSupported(_ flag: UInt8) -> Bool {
        switch flag {
        case 0, UInt8(ascii: "0"), UInt8(ascii: "1"), UInt8(ascii: "2"), UInt8(ascii: "3"), UInt8(ascii: "4"),
            UInt8(ascii: "5"), UInt8(ascii: "6"), UInt8(ascii: "7"):
            return true
        default:
            return false
        }
    }

    private func withLink(_ kind: TarEntry.Kind, _ target: PathBytes) -> TarEntry.Kind {
        switch kind {
        case .hardLink: return .hardLink(target: target)
        case .symlink: return .symlink(target: target)
        default: return kind
        }
    }

    private func parsePax(_ data: [UInt8], at headerOffset: Int64) throws -> [(String, [UInt8])] {
        var records: [(String, [UInt8])] = []
        var index = 0
        while index < data.count {
            var length = 0
            var cursor = index
            while cursor < data.count, data[cursor] != UInt8(ascii: " ") {
                let digit = data[cursor]
                guard digit >= UInt8(ascii: "0") && digit <= UInt8(ascii: "9"), length < 1 << 30 else {
                    throw Error.badPaxRecord(offset: headerOffset)
                }
                length = length * 10 + Int(digit - UInt8(ascii: "0"))
                cursor += 1
            }
            let recordEnd = index + length
            guard length > 0, cursor < recordEnd, recordEnd <= data.count, data[recordEnd - 1] == UInt8(ascii: "\n")
            else { throw Error.badPaxRecord(offset: headerOffset) }
            let body = data[(cursor + 1)..<(recordEnd - 1)]
            guard let equals = body.firstIndex(of: UInt8(ascii: "=")) else {
                throw Error.badPaxRecord(offset: headerOffset)
            }
            let key = String(decoding: body[body.startIndex..<equals], as: UTF8.self)
            records.append((key, Array(body[(equals + 1)...])))
            index = recordEnd
        }
        return records
    }

    private func applyPax(_ pax: [String: [UInt8]], to entry: inout TarEntry, at headerOffset: Int64) throws {
        // Decimal digits only: no sign, no spaces, no empty value; more than 18 digits is out of any range here.
        func decimal(_ key: String) throws -> Int64? {
            guard let value = pax[key] else { return nil }
            guard !value.isEmpty, value.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
                throw Error.badNumber(field: "pax " + key, offset: headerOffset)
            }
            guard value.count <= 18, let number = Int64(String(decoding: value, as: UTF8.self)) else {
                throw Error.numberOutOfRange(
                    field: "pax " + key, value: String(decoding: value, as: UTF8.self), limit: UInt64(Int64.max / 2),
                    offset: headerOffset)
            }
            return number
        }
        // Names are bytes whatever `hdrcharset` says (BINARY or the UTF-8 default): they are kept exactly.
        if let path = pax["path"] { entry.path = PathBytes(path) }
        if let link = pax["linkpath"] { entry.kind = withLink(entry.kind, PathBytes(link)) }
        if let size = try decimal("size") {
            // Keeps size + padding arithmetic far from overflow on hostile input.
            guard size <= Int64.max / 2 else { throw Error.badNumber(field: "size", offset: headerOffset) }
            entry.size = size
        }
        if let uid = try decimal("uid") { entry.uid = try id(uid, "pax uid", headerOffset) }
        if let gid = try decimal("gid") { entry.gid = try id(gid, "pax gid", headerOffset) }
        if let name = pax["uname"] { entry.userName = String(decoding: name, as: UTF8.self) }
        if let name = pax["gname"] { entry.groupName = String(decoding: name, as: UTF8.self) }
        if let mtime = pax["mtime"] {
            guard let time = TarReader.parseTime(String(decoding: mtime, as: UTF8.self)) else {
                throw Error.badNumber(field: "mtime", offset: headerOffset)
            }
            entry.modified = time
        }
        for (key, value) in pax.sorted(by: { $0.key < $1.key }) where key.hasPrefix("SCHILY.xattr.") {
            entry.xattrs.append(ExtendedAttribute(name: String(key.dropFirst("SCHILY.xattr.".count)), value: value))
        }
    }

    /// Parses a PAX time `[-]seconds[.fraction]` (fraction truncated to nanoseconds).
    static func parseTime(_ text: String) -> FileTimestamp? {
        var body = Substring(text)
        let negative = body.hasPrefix("-")
        if negative { body = body.dropFirst() }
        let parts = body.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let first = parts.first, let seconds = Int64(first) else { return nil }
        var nanoseconds: Int64 = 0
        if parts.count == 2 {
            let digits = parts[1].prefix(9)
            guard digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            nanoseconds = Int64(digits + String(repeating: "0", count: 9 - digits.count)) ?? 0
        }
        if negative {
            if nanoseconds > 0 {
                return FileTimestamp(seconds: -seconds - 1, nanoseconds: Int32(1_000_000_000 - nanoseconds))
            }
            return FileTimestamp(seconds: -seconds, nanoseconds: 0)
        }
        return FileTimestamp(seconds: seconds, nanoseconds: Int32(nanoseconds))
    }
}
