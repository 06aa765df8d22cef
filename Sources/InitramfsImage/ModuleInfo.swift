/// The `.modinfo` section of a kernel module (an ELF relocatable object): the `key=value` strings, NUL separated,
/// that `modinfo` prints. The initramfs builder reads `firmware=` from it, what `modinfo -F firmware` lists: the
/// files the driver may ask the kernel's firmware loader for (`MODULE_FIRMWARE()` in the driver's source).
///
/// Pure: the caller hands over the module's bytes (already decompressed for a `.ko.xz`, `.ko.zst` or `.ko.gz`).
/// Both ELF classes and byte orders are read; the section table is bounds-checked, so a damaged module gives an
/// error naming what is wrong, never a trap.
public enum ModuleInfo {
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case notELF
        case truncated(what: String)
        case noModinfoSection

        public var description: String {
            switch self {
            case .notELF: "not an ELF file (no kernel module)"
            case .truncated(let what): "damaged ELF file: \(what) lies outside the file"
            case .noModinfoSection: "no .modinfo section (not a kernel module)"
            }
        }
    }

    /// Every `key=value` entry of the `.modinfo` section, in file order (a key may repeat: `alias`, `firmware`).
    public static func entries(inModule bytes: [UInt8]) throws(Error) -> [(key: String, value: String)] {
        let section = try modinfoSection(bytes)
        var result: [(key: String, value: String)] = []
        for piece in section.split(separator: 0, omittingEmptySubsequences: true) {
            let text = String(decoding: piece, as: UTF8.self)
            guard let equals = text.firstIndex(of: "=") else { continue }
            result.append((String(text[..<equals]), String(text[text.index(after: equals)...])))
        }
        return result
    }

    /// The `firmware=` values, in order, each once.
    public static func firmware(inModule bytes: [UInt8]) throws(Error) -> [String] {
        var seen: Set<String> = []
        var names: [String] = []
        for entry in try entries(inModule: bytes) where entry.key == "firmware" && !entry.value.isEmpty {
            if seen.insert(entry.value).inserted { names.append(entry.value) }
        }
        return names
    }

    /// The bytes of the section named `.modinfo`.
    static func modinfoSection(_ bytes: [UInt8]) throws(Error) -> ArraySlice<UInt8> {
        guard bytes.count >= 52, bytes[0] == 0x7f, bytes[1] == 0x45, bytes[2] == 0x4c, bytes[3] == 0x46,
            bytes[4] == 1 || bytes[4] == 2
        else { throw .notELF }
        let reader = Reader(bytes: bytes, is64: bytes[4] == 2, littleEndian: bytes[5] != 2)
        let header: (offset: Int, size: Int, count: Int, names: Int) =
            reader.is64
            ? (offset: 0x28, size: 0x3a, count: 0x3c, names: 0x3e)
            : (offset: 0x20, size: 0x2e, count: 0x30, names: 0x32)
        guard bytes.count >= (reader.is64 ? 64 : 52) else { throw .truncated(what: "the ELF header") }
        let tableOffset = try reader.word(at: header.offset)
        let entrySize = try reader.read(at: header.size, width: 2)
        var count = try reader.read(at: header.count, width: 2)
        var namesIndex = try reader.read(at: header.names, width: 2)
        guard tableOffset > 0, entrySize >= (reader.is64 ? 64 : 40) else { throw .noModinfoSection }
        // Extended numbering: section 0 holds the real count (sh_size) and the names index (sh_link).
        if count == 0 || namesIndex == 0xffff {
            let zero = try reader.section(0, tableOffset: tableOffset, entrySize: entrySize)
            if count == 0 { count = zero.size }
            if namesIndex == 0xffff { namesIndex = zero.link }
        }
        guard count <= 1 << 20, namesIndex < count else { throw .truncated(what: "the section table") }
        let names = try reader.section(Int(namesIndex), tableOffset: tableOffset, entrySize: entrySize)
        let nameBytes = try reader.slice(offset: names.offset, size: names.size, what: "the section names")
        let wanted = Array(".modinfo".utf8)
        for index in 0..<Int(count) {
            let section = try reader.section(index, tableOffset: tableOffset, entrySize: entrySize)
            guard section.name < UInt64(nameBytes.count) else { continue }
            let start = nameBytes.startIndex + Int(section.name)
            let end = nameBytes[start...].firstIndex(of: 0) ?? nameBytes.endIndex
            if Array(nameBytes[start..<end]) == wanted {
                return try reader.slice(offset: section.offset, size: section.size, what: "the .modinfo section")
            }
        }
        throw .noModinfoSection
    }

    private struct Reader {
        let bytes: [UInt8]
        let is64: Bool
        let littleEndian: Bool

        func read(at start: UInt64, width: Int) throws(Error) -> UInt64 {
            guard start <= UInt64(bytes.count), UInt64(bytes.count) - start >= UInt64(width) else {
                throw .truncated(what: "a header field at byte \(start)")
            }
            var value: UInt64 = 0
            let base = Int(start)
            for index in 0..<width {
                value = value << 8 | UInt64(bytes[base + (littleEndian ? width - 1 - index : index)])
            }
            return value
        }

        func read(at start: Int, width: Int) throws(Error) -> UInt64 { try read(at: UInt64(start), width: width) }

        /// An address-sized field (8 bytes in ELF64, 4 in ELF32).
        func word(at start: Int) throws(Error) -> UInt64 { try read(at: start, width: is64 ? 8 : 4) }

        func section(_ index: Int, tableOffset: UInt64, entrySize: UInt64) throws(Error)
            -> (name: UInt64, offset: UInt64, size: UInt64, link: UInt64)
        {
            let (product, overflow) = UInt64(index).multipliedReportingOverflow(by: entrySize)
            let (start, overflow2) = tableOffset.addingReportingOverflow(product)
            guard !overflow, !overflow2 else { throw .truncated(what: "section header \(index)") }
            let name = try read(at: start, width: 4)
            if is64 {
                return (
                    name, try read(at: start + 24, width: 8), try read(at: start + 32, width: 8),
                    try read(at: start + 40, width: 4)
                )
            }
            return (
                name, try read(at: start + 16, width: 4), try read(at: start + 20, width: 4),
                try read(at: start + 24, width: 4)
            )
        }

        func slice(offset: UInt64, size: UInt64, what: String) throws(Error) -> ArraySlice<UInt8> {
            guard offset <= UInt64(bytes.count), UInt64(bytes.count) - offset >= size else {
                throw .truncated(what: what)
            }
            return bytes[Int(offset)..<Int(offset + size)]
        }
    }
}
