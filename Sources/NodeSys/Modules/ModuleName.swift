/// A kernel module name in the kernel's canonical form: "-" written as "_", no directory, no ".ko*"
/// suffix. modules.dep, /proc/modules and `mod.param=` all agree once normalised this way.
public struct ModuleName: Sendable, Hashable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let rawValue: String

    public init(_ text: some StringProtocol) {
        rawValue = String(text.map { $0 == "-" ? "_" : $0 })
    }

    public init(stringLiteral value: String) { self.init(value) }

    /// "kernel/fs/nfs/nfsv4.ko" -> "nfsv4"; also strips ".ko.xz", ".ko.zst", ".ko.gz".
    public init(modulePath path: some StringProtocol) {
        var base = Substring(path)
        if let slash = base.lastIndex(of: "/") { base = base[base.index(after: slash)...] }
        var index = base.startIndex
        while index < base.endIndex {
            if base[index...].hasPrefix(".ko") {
                base = base[..<index]
                break
            }
            index = base.index(after: index)
        }
        self.init(base)
    }

    public var description: String { rawValue }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}
