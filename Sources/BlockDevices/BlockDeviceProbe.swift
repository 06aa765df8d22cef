import CLibBlkid
import Glibc
import SystemPackage

/// Reads file-system and partition identity from block devices with libblkid's low-level probe (no cache file,
/// no udev: the initramfs has neither).
public enum BlockDeviceProbe {
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case cannotOpen(path: String, errno: Errno)
        case probeFailed(path: String)
        case ambiguous(path: String)

        public var description: String {
            switch self {
            case .cannotOpen(let path, let errno):
                return "cannot probe \(path): \(errno)"
            case .probeFailed(let path): return "libblkid could not probe \(path)"
            case .ambiguous(let path):
                return "\(path) carries more than one file-system signature (libblkid refuses to guess)"
            }
        }
    }

    /// Probes one device (or image file): superblock TYPE/LABEL/UUID, and the partition entry's PARTUUID/PARTLABEL.
    public static func identify(_ path: String) throws(Error) -> DeviceIdentity {
        Glibc.errno = 0
        guard let probe = blkid_new_probe_from_filename(path) else {
            // Not every libblkid failure path sets errno; report an I/O error when it stayed 0.
            let errno = Glibc.errno
            throw .cannotOpen(path: path, errno: errno == 0 ? .ioError : Errno(rawValue: errno))
        }
        defer { blkid_free_probe(probe) }
        _ = blkid_probe_enable_superblocks(probe, 1)
        _ = blkid_probe_set_superblocks_flags(probe, BLKID_SUBLKS_LABEL | BLKID_SUBLKS_UUID | BLKID_SUBLKS_TYPE)
        _ = blkid_probe_enable_partitions(probe, 1)
        _ = blkid_probe_set_partitions_flags(probe, BLKID_PARTS_ENTRY_DETAILS)
        let rc = blkid_do_safeprobe(probe)
        if rc == -2 { throw .ambiguous(path: path) }
        if rc < 0 { throw .probeFailed(path: path) }
        func value(_ name: String) -> String? {
            var data: UnsafePointer<CChar>? = nil
            var length = 0
            guard blkid_probe_lookup_value(probe, name, &data, &length) == 0, let data else { return nil }
            let text = String(cString: data)
            return text.isEmpty ? nil : text
        }
        return DeviceIdentity(
            path: path, fileSystemType: value("TYPE"), label: value("LABEL"), uuid: value("UUID"),
            partitionUUID: value("PART_ENTRY_UUID"), partitionLabel: value("PART_ENTRY_NAME"))
    }

    /// Names of the block devices the kernel knows now (`/sys/class/block`), sorted.
    public static func deviceNames(sysClassBlock: String = "/sys/class/block") -> [String] {
        guard let directory = opendir(sysClassBlock) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw -> String in
                let length = raw.firstIndex(of: 0) ?? raw.count
                return String(decoding: raw[0..<length], as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            names.append(name)
        }
        return names.sorted()
    }
}
