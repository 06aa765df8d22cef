import NodeSys

private let ustarMagic = Array("ustar".utf8)
private let paxNamePrefix = Array("PaxHeaders/".utf8)

/// Encoding of ustar header blocks and PAX extended-header records (POSIX.1-2001 pax format).
///
/// Anything a ustar field cannot hold exactly (names over 100/155 bytes, links over 100, sizes of 8 GiB and more,
/// ids over 2097151, long user/group names, sub-second mtimes, xattrs) goes into a PAX `x` header placed right
/// before the ustar header; the ustar field then carries a best-effort value (base-256 for big numbers).
public enum TarHeader {
    public static let blockSize = 512

    /// Field offsets in a ustar header block (`package`: LayerApply's reader parses the blocks this module writes).
    package enum Offset {
        package static let name = 0, mode = 100, uid = 108, gid = 116, size = 124, mtime = 136, checksum = 148
        package static let typeflag = 156, linkname = 157, magic = 257, version = 263, uname = 265, gname = 297
        package static let devmajor = 329, devminor = 337, prefix = 345
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
        var out: [UInt8] = []
        var scratch: [UInt8] = []
        encode(entry, into: &out, scratch: &scratch)
        return out
    }

    /// Appends the header blocks of `entry` to `out`; `scratch` is reused for the PAX records so a long walk
    /// allocates nothing per entry once the buffers have grown.
    public static func encode(_ entry: TarEntry, into out: inout [UInt8], scratch records: inout [UInt8]) {
        records.removeAll(keepingCapacity: true)
        let pathBytes = entry.path.bytes
        var linkTarget: [UInt8] = []
        switch entry.kind {
        case .hardLink(let target), .symlink(let target): linkTarget = target.bytes
        default: break
        }
        // ustar fields hold a name only when it fits and is plain ASCII; anything else goes in PAX records.
        // PAX values are UTF-8 by default: a name that is not (Linux names are bytes) is written exactly, with
        // `hdrcharset=BINARY` first, as GNU tar does.
        let split = isASCII(pathBytes) ? pathBytes.withUnsafeBufferPointer { splitPoint($0) } : nil
        let linkInPax = linkTarget.count > 100 || !isASCII(linkTarget)
        if (split == nil && !isValidUTF8(pathBytes)) || (linkInPax && !isValidUTF8(linkTarget)) {
            appendRecord(&records, key: "hdrcharset", value: "BINARY".utf8)
        }
        if split == nil { appendRecord(&records, key: "path", value: pathBytes) }
        if linkInPax { appendRecord(&records, key: "linkpath", value: linkTarget) }
        if !fitsOctal(entry.dataSize, width: 12) { appendRecord(&records, key: "size", decimal: entry.dataSize) }
        if !fitsOctal(Int64(entry.uid), width: 8) { appendRecord(&records, key: "uid", decimal: Int64(entry.uid)) }
        if !fitsOctal(Int64(entry.gid), width: 8) { appendRecord(&records, key: "gid", decimal: Int64(entry.gid)) }
        if entry.userName.utf8.count > 32 { appendRecord(&records, key: "uname", value: entry.userName.utf8) }
        if entry.groupName.utf8.count > 32 { appendRecord(&records, key: "gname", value: entry.groupName.utf8) }
        if entry.modified.nanoseconds != 0 || !fitsOctal(entry.modified.seconds, width: 12) {
            appendRecord(&records, key: "mtime", value: formatTimeBytes(entry.modified))
        }
        for attribute in entry.xattrs {
            appendRecord(&records, key: "SCHILY.xattr." + attribute.name, value: attribute.value)
        }

        if !records.isEmpty {
            // The `x` header's own name is informational: ASCII only, so no reader has to decode it.
            var paxName = paxNamePrefix
            // The last non-empty component (a directory's path ends in "/").
            var end = pathBytes.count
            while end > 0 && pathBytes[end - 1] == UInt8(ascii: "/") { end -= 1 }
            var start = end
            while start > 0 && pathBytes[start - 1] != UInt8(ascii: "/") { start -= 1 }
            for byte in pathBytes[start..<min(end, start + 100 - paxName.count)] {
                paxName.append(byte >= 0x20 && byte < 0x7f ? byte : UInt8(ascii: "_"))
            }
            appendUstar(
                &out, path: paxName, split: 0, typeflag: UInt8(ascii: "x"), permissions: 0o644, uid: 0, gid: 0,
                size: Int64(records.count), mtimeSeconds: max(0, entry.modified.seconds), linkname: [],
                userName: "", groupName: "", major: 0, minor: 0)
            out += records
            out.append(contentsOf: repeatElement(0, count: padding(Int64(records.count))))
        }
        var major: UInt32 = 0
        var minor: UInt32 = 0
        switch entry.kind {
        case .characterDevice(let ma, let mi), .blockDevice(let ma, let mi): (major, minor) = (ma, mi)
        default: break
        }
        appendUstar(
            &out, path: split == nil ? Array(pathBytes.prefix(100)) : pathBytes, split: split ?? 0,
            typeflag: typeflag(entry.kind),
            permissions: entry.permissions, uid: Int64(entry.uid), gid: Int64(entry.gid), size: entry.dataSize,
            mtimeSeconds: entry.modified.seconds, linkname: Array(linkTarget.prefix(100)),
            userName: entry.userName, groupName: entry.groupName, major: major, minor: minor)
    }

    static func isASCII(_ bytes: [UInt8]) -> Bool { bytes.allSatisfy { $0 < 0x80 } }

    static func isValidUTF8(_ bytes: [UInt8]) -> Bool { String(validating: bytes, as: UTF8.self) != nil }

    /// Bytes of zero padding after `size` data bytes to reach the next block boundary.
    public static func padding(_ size: Int64) -> Int {
        let rest = Int(size % Int64(blockSize))
        return rest == 0 ? 0 : blockSize - rest
    }

    /// Splits a path into ustar (prefix, name) when it fits: name ≤ 100 bytes, or prefix ≤ 155 + `/` + name ≤ 100.
    static func splitName(_ path: [UInt8]) -> (prefix: [UInt8], name: [UInt8])? {
        guard let point = splitPoint(path) else { return nil }
        if point == 0 { return ([], path) }
        return (Array(path[0..<point]), Array(path[(point + 1)...]))
    }

    /// 0 when the path fits the name field alone; else the index of the slash separating prefix and name,
    /// choosing the shortest prefix (as Python's tarfile and GNU tar do); nil when no split fits.
    static func splitPoint<Bytes: RandomAccessCollection<UInt8>>(_ path: Bytes) -> Int? where Bytes.Index == Int {
        let count = path.count
        if count <= 100 { return 0 }
        if count > 256 { return nil }
        var index = count - 101
        while index < count {
            if path[path.startIndex + index] == UInt8(ascii: "/") {
                if index > 155 { return nil }
                if index > 0 && count - index - 1 <= 100 && count - index - 1 > 0 { return index }
            }
            index += 1
        }
        return nil
    }

    /// One PAX record `"<len> <key>=<value>\n"`, where `<len>` counts the whole record including its own digits.
    public static func paxRecord(key: String, value: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        appendRecord(&out, key: key, value: value)
        return out
    }

    static func appendRecord<Value: Collection<UInt8>>(_ out: inout [UInt8], key: String, value: Value) {
        let body = 1 + key.utf8.count + 1 + value.count + 1  // " " key "=" value "\n"
        var length = body + decimalDigits(Int64(body))
        if decimalDigits(Int64(length)) + body != length { length = body + decimalDigits(Int64(length)) }
        appendDecimal(&out, Int64(length))
        out.append(UInt8(ascii: " "))
        out += key.utf8
        out.append(UInt8(ascii: "="))
        out += value
        out.append(UInt8(ascii: "\n"))
    }

    static func appendRecord(_ out: inout [UInt8], key: String, decimal: Int64) {
        var digits: [UInt8] = []
        appendDecimal(&digits, decimal)
        appendRecord(&out, key: key, value: digits)
    }

    static func decimalDigits(_ value: Int64) -> Int {
        var count = 1
        var rest = value
        while rest >= 10 { rest /= 10; count += 1 }
        return count
    }

    static func appendDecimal(_ out: inout [UInt8], _ value: Int64) {
        let start = out.count
        var rest = value.magnitude
        repeat {
            out.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        } while rest > 0
        if value < 0 { out.append(UInt8(ascii: "-")) }
        out[start...].reverse()
    }

    /// `seconds[.fraction]` with trailing zeros of the fraction removed; negative times as `-s.f` (s.f before epoch).
    static func formatTime(_ time: FileTimestamp) -> String {
        String(decoding: formatTimeBytes(time), as: UTF8.self)
    }

    static func formatTimeBytes(_ time: FileTimestamp) -> [UInt8] {
        var seconds = time.seconds
        var nanoseconds = Int64(time.nanoseconds)
        var out: [UInt8] = []
        if seconds < 0 {
            out.append(UInt8(ascii: "-"))
            if nanoseconds > 0 {
                seconds = -(seconds + 1)
                nanoseconds = 1_000_000_000 - nanoseconds
            } else {
                seconds = -seconds
            }
        }
        appendDecimal(&out, seconds)
        guard nanoseconds != 0 else { return out }
        out.append(UInt8(ascii: "."))
        var divisor: Int64 = 100_000_000
        while nanoseconds > 0 && divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(nanoseconds / divisor))
            nanoseconds %= divisor
            divisor /= 10
        }
        return out
    }

    /// True when `value` fits the field as `width - 1` octal digits plus a NUL.
    static func fitsOctal(_ value: Int64, width: Int) -> Bool {
        value >= 0 && value < (Int64(1) << (3 * (width - 1)))
    }

    /// A numeric field: octal digits + NUL when it fits, else GNU base-256 (0x80 marker, big-endian).
    static func numericField(_ value: Int64, width: Int) -> [UInt8] {
        var field = [UInt8](repeating: 0, count: width)
        field.withUnsafeMutableBufferPointer { putNumber($0, 0, value, width: width) }
        return field
    }

    private static func putNumber(_ block: UnsafeMutableBufferPointer<UInt8>, _ at: Int, _ value: Int64, width: Int) {
        if fitsOctal(value, width: width) {
            var rest = value
            var index = at + width - 2
            while index >= at {
                block[index] = UInt8(ascii: "0") + UInt8(rest & 7)
                rest >>= 3
                index -= 1
            }
            block[at + width - 1] = 0
            return
        }
        var rest = UInt64(bitPattern: value)
        var index = at + width - 1
        while index > at {
            block[index] = UInt8(truncatingIfNeeded: rest)
            rest >>= 8
            index -= 1
        }
        block[at] = value < 0 ? 0xff : 0x80
    }

    /// Appends one ustar block. `path` is the whole name with the prefix/name split at `split` (0: no prefix).
    static func appendUstar(
        _ out: inout [UInt8], path: [UInt8], split: Int, typeflag: UInt8, permissions: UInt32, uid: Int64, gid: Int64,
        size: Int64, mtimeSeconds: Int64, linkname: [UInt8], userName: String, groupName: String,
        major: UInt32, minor: UInt32
    ) {
        let base = out.count
        out.append(contentsOf: repeatElement(0, count: blockSize))
        out.withUnsafeMutableBufferPointer { whole in
            let block = UnsafeMutableBufferPointer(rebasing: whole[base..<(base + blockSize)])
            // Not generic: a debug build (the tests, the fuzz suite) pays for generic metadata on every byte.
            func put(_ bytes: ArraySlice<UInt8>, at offset: Int, limit: Int) {
                var index = 0
                var source = bytes.startIndex
                while index < limit && source < bytes.endIndex {
                    block[offset + index] = bytes[source]
                    index += 1
                    source += 1
                }
            }
            if split == 0 {
                put(path[...], at: Offset.name, limit: 100)
            } else {
                put(path[(split + 1)...], at: Offset.name, limit: 100)
                put(path[0..<split], at: Offset.prefix, limit: 155)
            }
            putNumber(block, Offset.mode, Int64(permissions & 0o7777), width: 8)
            putNumber(block, Offset.uid, fitsOctal(uid, width: 8) ? uid : 0, width: 8)
            putNumber(block, Offset.gid, fitsOctal(gid, width: 8) ? gid : 0, width: 8)
            putNumber(block, Offset.size, size, width: 12)
            putNumber(block, Offset.mtime, fitsOctal(mtimeSeconds, width: 12) ? mtimeSeconds : 0, width: 12)
            block[Offset.typeflag] = typeflag
            put(linkname[...], at: Offset.linkname, limit: 100)
            put(ustarMagic[...], at: Offset.magic, limit: 5)
            block[Offset.version] = UInt8(ascii: "0")
            block[Offset.version + 1] = UInt8(ascii: "0")
            // Through the strings' own UTF-8 storage: an array made from each name cost two allocations per entry.
            func putText(_ text: String, at offset: Int) {
                var text = text
                text.withUTF8 { bytes in
                    for index in 0..<min(bytes.count, 32) { block[offset + index] = bytes[index] }
                }
            }
            putText(userName, at: Offset.uname)
            putText(groupName, at: Offset.gname)
            if typeflag == UInt8(ascii: "3") || typeflag == UInt8(ascii: "4") {
                // Only device entries fill the device fields (Python and GNU tar leave them NUL otherwise).
                putNumber(block, Offset.devmajor, Int64(major), width: 8)
                putNumber(block, Offset.devminor, Int64(minor), width: 8)
            }
            for field in Offset.checksum..<(Offset.checksum + 8) { block[field] = 0x20 }
            var sum = 0
            var index = 0
            while index < blockSize {
                sum += Int(block[index])
                index += 1
            }
            putNumber(block, Offset.checksum, Int64(sum), width: 7)  // 6 digits + NUL, the space stays
        }
    }
}
