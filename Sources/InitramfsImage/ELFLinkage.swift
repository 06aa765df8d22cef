/// Tells a statically linked ELF executable from a dynamically linked one by its program headers: a dynamic
/// executable names its loader in a PT_INTERP header, a static one (static-pie included) has none. This is what
/// `file` reports as "statically linked", without needing `file` (a WalT image may not have it).
public enum ELFLinkage: Equatable, Sendable {
    case staticExecutable
    case dynamicExecutable
    case notELF

    /// How many bytes from the file's start `classify` needs: the ELF header first (64 bytes), then up to the
    /// end of the program header table it points at.
    public static func bytesNeeded(header: [UInt8]) -> Int? {
        guard let layout = ProgramHeaderTable(header) else { return nil }
        return layout.end
    }

    /// Classifies from the file's first bytes (at least `bytesNeeded`; fewer is "not ELF").
    public static func classify(_ prefix: [UInt8]) -> ELFLinkage {
        guard let table = ProgramHeaderTable(prefix), prefix.count >= table.end else { return .notELF }
        for index in 0..<table.count {
            let start = table.offset + index * table.entrySize
            if table.read32(prefix, at: start) == ptInterp { return .dynamicExecutable }
        }
        return .staticExecutable
    }

    private static let ptInterp: UInt32 = 3

    private struct ProgramHeaderTable {
        let littleEndian: Bool
        let offset: Int
        let entrySize: Int
        let count: Int
        var end: Int { offset + entrySize * count }

        init?(_ bytes: [UInt8]) {
            guard bytes.count >= 52, bytes[0] == 0x7f, bytes[1] == 0x45, bytes[2] == 0x4c, bytes[3] == 0x46 else {
                return nil
            }
            let is64 = bytes[4] == 2
            littleEndian = bytes[5] != 2
            if is64 {
                guard bytes.count >= 64 else { return nil }
                offset = Int(clamping: Self.read(bytes, at: 32, width: 8, littleEndian: littleEndian))
                entrySize = Int(Self.read(bytes, at: 54, width: 2, littleEndian: littleEndian))
                count = Int(Self.read(bytes, at: 56, width: 2, littleEndian: littleEndian))
            } else {
                offset = Int(Self.read(bytes, at: 28, width: 4, littleEndian: littleEndian))
                entrySize = Int(Self.read(bytes, at: 42, width: 2, littleEndian: littleEndian))
                count = Int(Self.read(bytes, at: 44, width: 2, littleEndian: littleEndian))
            }
            // A table past 1 MiB or with entries too small for p_type is not one we trust.
            guard entrySize >= 4, offset > 0, offset + entrySize * count <= 1 << 20 else { return nil }
        }

        func read32(_ bytes: [UInt8], at start: Int) -> UInt32 {
            UInt32(Self.read(bytes, at: start, width: 4, littleEndian: littleEndian))
        }

        static func read(_ bytes: [UInt8], at start: Int, width: Int, littleEndian: Bool) -> UInt64 {
            var value: UInt64 = 0
            for index in 0..<width {
                let byte = UInt64(bytes[start + (littleEndian ? width - 1 - index : index)])
                value = value << 8 | byte
            }
            return value
        }
    }
}
