import NodeSys

/// Encoding of ustar header blocks and PAX extended-header records (POSIX.1-2001 pax format).
///
/// Anything a ustar field cannot hold exactly (names over 100/155 bytes, links over 100, sizes of 8 GiB and more,
/// ids over 2097151, long user/group names, sub-second mtimes, xattrs) goes into a PAX `x` header placed right
/// before the ustar header; the ustar field then carries a best-effort value (base-256 for big numbers).
public enum TarHeader {
    public static let blockSize = 512

    enum Offset {
        static let name = 0, mode = 100, uid = 108, gid = 116, size = 124, mtime = 136, checksum = 148
        static let typeflag = 156, linkname = 157, magic = 257, version = 263, uname = 265, gname = 297
        static let devmajor = 329, devminor = 337, prefix = 345
    }

    /// The type flag byte for a kind.
    static func typeflag(_ kind: TarEntry.Kind) -> UInt8 {
        switch kind {
        case .regular: return UInt8(ascii: "0")
        case .hardLink: return UInt8(ascii: "1")
        case .symlink: return UInt8(ascii: "2")
        case .characterDevice: return UInt8(ascii: "3")
        case .blockDevice: return UInt8(ascii: "4")
        case .directory: return UInt8(ascii: "5")
        case .fifo: return UInt8(ascii: "6")
        }
    }

    /// Encodes `entry` as header blocks: an optional PAX `x` header (with its padded records) and the ustar block.
    public static func encode(_ entry: TarEntry) -> [UInt8] {
        var records: [(String, [UInt8])] = []
        let path = Array(entry.path.utf8)
        let split = splitName(path)
        if split == nil { records.append(("path", path)) }
        var linkTarget: [UInt8] = []
        switch entry.kind {
        case .hardLink(let target), .symlink(let target): linkTarget = Array(target.utf8)
        default: break
        }
        if linkTarget.count > 100 { records.append(("linkpath", linkTarget)) }
        if !fitsOctal(entry.dataSize, width: 12) { records.append(("size", Array(String(entry.dataSize).utf8))) }
        if !fitsOctal(Int64(entry.uid), width: 8) { records.append(("uid", Array(String(entry.uid).utf8))) }
        if !fitsOctal(Int64(entry.gid), width: 8) { records.append(("gid", Array(String(entry.gid).utf8))) }
        if entry.userName.utf8.count > 32 { records.append(("uname", Array(entry.userName.utf8))) }
        if entry.groupName.utf8.count > 32 { records.append(("gname", Array(entry.groupName.utf8))) }
        if entry.modified.nanoseconds != 0 || !fitsOctal(entry.modified.seconds, width: 12) {
            records.append(("mtime", Array(formatTime(entry.modified).utf8)))
        }
        for attribute in entry.xattrs {
            records.append(("SCHILY.xattr." + attribute.name, attribute.value))
        }

        var out: [UInt8] = []
        if !records.isEmpty {
            var data: [UInt8] = []
            for (key, value) in records { data += paxRecord(key: key, value: value) }
            let baseName = path.split(separator: UInt8(ascii: "/")).last.map(Array.init) ?? []
            let paxName = Array("PaxHeaders/".utf8) + baseName
            var pax = ustarBlock(
                name: Array(paxName.prefix(100)), prefix: [], typeflag: UInt8(ascii: "x"), permissions: 0o644,
                uid: 0, gid: 0, size: Int64(data.count), mtimeSeconds: max(0, entry.modified.seconds),
                linkname: [], userName: [], groupName: [], major: 0, minor: 0)
            pax += data
            pax += [UInt8](repeating: 0, count: padding(Int64(data.count)))
            out += pax
        }
        let (prefix, name) = split ?? ([], Array(path.prefix(100)))
        var major: UInt32 = 0
        var minor: UInt32 = 0
        switch entry.kind {
        case .characterDevice(let ma, let mi), .blockDevice(let ma, let mi): (major, minor) = (ma, mi)
        default: break
        }
        out += ustarBlock(
            name: name, prefix: prefix, typeflag: typeflag(entry.kind), permissions: entry.permissions,
            uid: Int64(entry.uid), gid: Int64(entry.gid), size: entry.dataSize, mtimeSeconds: entry.modified.seconds,
            linkname: Array(linkTarget.prefix(100)), userName: Array(entry.userName.utf8.prefix(32)),
            groupName: Array(entry.groupName.utf8.prefix(32)), major: major, minor: minor)
        return out
    }

    /// Bytes of zero padding after `size` data bytes to reach the next block boundary.
    public static func padding(_ size: Int64) -> Int {
        let rest = Int(size % Int64(blockSize))
        return rest == 0 ? 0 : blockSize - rest
    }

    /// Splits a path into ustar (prefix, name) when it fits: name ≤ 100 bytes, or prefix ≤ 155 + `/` + name ≤ 100.
    static func splitName(_ path: [UInt8]) -> (prefix: [UInt8], name: [UInt8])? {
        if path.count <= 100 { return ([], path) }
        if path.count > 256 { return nil }
        // The earliest slash that leaves a name of at most 100 bytes keeps the prefix shortest.
        var index = path.count - 101
        while index < path.count {
            if index >= 0, path[index] == UInt8(ascii: "/") {
                let prefix = Array(path[0..<index])
                let name = Array(path[(index + 1)...])
                if prefix.count <= 155 && !name.isEmpty && name.count <= 100 && !prefix.isEmpty { return (prefix, name) }
                if prefix.count > 155 { return nil }
            }
            index += 1
        }
        return nil
    }

    /// One PAX record `"<len> <key>=<value>\n"`, where `<len>` counts the whole record including its own digits.
    public static func paxRecord(key: String, value: [UInt8]) -> [UInt8] {
        let body = 1 + key.utf8.count + 1 + value.count + 1  // " " key "=" value "\n"
        var length = body + String(body).utf8.count
        if String(length).utf8.count + body != length { length = body + String(length).utf8.count }
        return Array(String(length).utf8) + [UInt8(ascii: " ")] + Array(key.utf8) + [UInt8(ascii: "=")] + value
            + [UInt8(ascii: "\n")]
    }

    /// `seconds[.fraction]` with trailing zeros of the fraction removed; negative times as `-s.f` (s.f before epoch).
    static func formatTime(_ time: FileTimestamp) -> String {
        var seconds = time.seconds
        var nanoseconds = Int64(time.nanoseconds)
        var sign = ""
        if seconds < 0 {
            sign = "-"
            if nanoseconds > 0 {
                seconds = -(seconds + 1)
                nanoseconds = 1_000_000_000 - nanoseconds
            } else {
                seconds = -seconds
            }
        }
        guard nanoseconds != 0 else { return sign + String(seconds) }
        var fraction = String(nanoseconds)
        fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return sign + String(seconds) + "." + fraction
    }

    /// True when `value` fits the field as `width - 1` octal digits plus a NUL.
    static func fitsOctal(_ value: Int64, width: Int) -> Bool {
        value >= 0 && value < (Int64(1) << (3 * (width - 1)))
    }

    /// A numeric field: octal digits + NUL when it fits, else GNU base-256 (0x80 marker, big-endian).
    static func numericField(_ value: Int64, width: Int) -> [UInt8] {
        if fitsOctal(value, width: width) {
            let digits = String(value, radix: 8)
            return Array((String(repeating: "0", count: width - 1 - digits.count) + digits).utf8) + [0]
        }
        var field = [UInt8](repeating: value < 0 ? 0xff : 0, count: width)
        var rest = UInt64(bitPattern: value)
        var index = width - 1
        while index > 0 {
            field[index] = UInt8(truncatingIfNeeded: rest)
            rest >>= 8
            index -= 1
        }
        field[0] = value < 0 ? 0xff : 0x80
        return field
    }

    static func ustarBlock(
        name: [UInt8], prefix: [UInt8], typeflag: UInt8, permissions: UInt32, uid: Int64, gid: Int64,
        size: Int64, mtimeSeconds: Int64, linkname: [UInt8], userName: [UInt8], groupName: [UInt8],
        major: UInt32, minor: UInt32
    ) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: blockSize)
        func put(_ bytes: [UInt8], at offset: Int) {
            for (index, byte) in bytes.enumerated() { block[offset + index] = byte }
        }
        put(name, at: Offset.name)
        put(numericField(Int64(permissions & 0o7777), width: 8), at: Offset.mode)
        put(numericField(fitsOctal(uid, width: 8) ? uid : 0, width: 8), at: Offset.uid)
        put(numericField(fitsOctal(gid, width: 8) ? gid : 0, width: 8), at: Offset.gid)
        put(numericField(size, width: 12), at: Offset.size)
        put(numericField(fitsOctal(mtimeSeconds, width: 12) ? mtimeSeconds : 0, width: 12), at: Offset.mtime)
        block[Offset.typeflag] = typeflag
        put(linkname, at: Offset.linkname)
        put(Array("ustar".utf8) + [0], at: Offset.magic)
        put(Array("00".utf8), at: Offset.version)
        put(userName, at: Offset.uname)
        put(groupName, at: Offset.gname)
        if typeflag == UInt8(ascii: "3") || typeflag == UInt8(ascii: "4") {
            // Only device entries fill the device fields (Python and GNU tar leave them NUL otherwise).
            put(numericField(Int64(major), width: 8), at: Offset.devmajor)
            put(numericField(Int64(minor), width: 8), at: Offset.devminor)
        }
        put(prefix, at: Offset.prefix)
        put(Array("        ".utf8), at: Offset.checksum)
        let sum = block.reduce(0) { $0 + Int($1) }
        let digits = String(sum, radix: 8)
        put(Array((String(repeating: "0", count: 6 - digits.count) + digits).utf8) + [0, UInt8(ascii: " ")], at: Offset.checksum)
        return block
    }
}
