import CNodeShim
import Glibc
import SystemPackage

/// One extended attribute: its full name (`user.foo`) and raw value (may be binary).
public struct ExtendedAttribute: Sendable, Hashable {
    public var name: String
    public var value: [UInt8]

    public init(name: String, value: [UInt8]) {
        self.name = name
        self.value = value
    }
}

extension FileTree {
    /// The magic path naming `name` inside `directory` through /proc, for the l*xattr calls that have no *at form.
    /// The final component is never followed by l* calls, so a symlink's own xattrs are read, not its target's.
    static func procPath(_ directory: FileDescriptor, _ name: PathBytes) -> PathBytes {
        PathBytes("/proc/self/fd/\(directory.rawValue)/") + name
    }

    /// Reads all extended attributes of `name` in `directory` (without following a symlink), keeping those
    /// `keep` accepts. Filesystems without xattr support yield an empty list.
    public static func extendedAttributes(
        in directory: FileDescriptor, _ name: some FileTreeName, keep: (String) -> Bool
    ) throws(Error) -> [ExtendedAttribute] {
        let name = name.pathBytes
        try checkComponent(name)
        let path = procPath(directory, name)
        return try readAttributes(
            path: { name.description },
            list: { buffer, size in path.withCString { nodeinit_llistxattr($0, buffer, size) } },
            get: { attribute, buffer, size in path.withCString { nodeinit_lgetxattr($0, attribute, buffer, size) } },
            keep: keep)
    }

    /// Same as `extendedAttributes(in:_:keep:)` on an open descriptor (cheaper: no /proc lookup).
    public static func extendedAttributes(
        of fd: FileDescriptor, path: @autoclosure () -> String, keep: (String) -> Bool
    ) throws(Error) -> [ExtendedAttribute] {
        try readAttributes(
            path: path,
            list: { buffer, size in nodeinit_flistxattr(fd.rawValue, buffer, size) },
            get: { attribute, buffer, size in nodeinit_fgetxattr(fd.rawValue, attribute, buffer, size) },
            keep: keep)
    }

    private static func readAttributes(
        path: () -> String,
        list: (UnsafeMutablePointer<CChar>?, Int) -> Int,
        get: (String, UnsafeMutableRawPointer?, Int) -> Int,
        keep: (String) -> Bool
    ) throws(Error) -> [ExtendedAttribute] {
        var names: [String] = []
        var capacity = 1024
        while true {
            let buffer = UnsafeMutableBufferPointer<CChar>.allocate(capacity: capacity)
            defer { buffer.deallocate() }
            let count: Int
            switch valueOrErrno({ list(buffer.baseAddress, capacity) }) {
            case .success(let value): count = value
            case .failure(.outOfRange) where capacity < 1 << 20: capacity *= 8; continue
            case .failure(.notSupported): return []
            case .failure(let errno): throw .system(operation: "listxattr", path: path(), errno: errno)
            }
            if count == 0 { return [] }
            var start = 0
            for index in 0..<count where buffer[index] == 0 {
                let bytes = UnsafeRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(buffer)[start..<index])
                names.append(String(decoding: bytes, as: UTF8.self))
                start = index + 1
            }
            break
        }
        var attributes: [ExtendedAttribute] = []
        for attribute in names.sorted() where keep(attribute) {
            var valueCapacity = 256
            reading: while true {
                var value = [UInt8](repeating: 0, count: valueCapacity)
                let count: Int
                switch valueOrErrno({ value.withUnsafeMutableBytes { get(attribute, $0.baseAddress, valueCapacity) } })
                {
                case .success(let length): count = length
                case .failure(.outOfRange) where valueCapacity < 1 << 20: valueCapacity *= 16; continue
                case .failure(.noData): break reading  // removed between list and get
                case .failure(let errno):
                    throw .system(operation: "getxattr \(PathBytes(attribute))", path: path(), errno: errno)
                }
                value.removeSubrange(count...)
                attributes.append(ExtendedAttribute(name: attribute, value: value))
                break
            }
        }
        return attributes
    }

    /// Value of one attribute of `name` in `directory`, or nil when absent or unsupported.
    public static func extendedAttribute(
        in directory: FileDescriptor, _ name: some FileTreeName, attribute: String
    ) throws(Error) -> [UInt8]? {
        try extendedAttributes(in: directory, name, keep: { $0 == attribute }).first?.value
    }

    /// Sets an attribute of `name` in `directory` without following a symlink.
    public static func setExtendedAttribute(
        in directory: FileDescriptor, _ name: some FileTreeName, _ attribute: ExtendedAttribute
    ) throws(Error) {
        let name = name.pathBytes
        try checkComponent(name)
        let path = procPath(directory, name)
        _ = try retrying("setxattr \(PathBytes(attribute.name))", name) {
            attribute.value.withUnsafeBytes { value in
                path.withCString { nodeinit_lsetxattr($0, attribute.name, value.baseAddress, value.count) }
            }
        }
    }
}
