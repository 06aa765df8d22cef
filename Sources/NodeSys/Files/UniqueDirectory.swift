import Glibc
import SystemPackage

extension PathOperations {
    public enum UniqueDirectoryError: Swift.Error, CustomStringConvertible, Equatable {
        case create(template: String, Errno)
        public var description: String {
            switch self {
            case .create(let template, let e):
                "cannot create a private directory \(template): \(e) (errno \(e.rawValue))"
            }
        }
    }

    /// mkdtemp(3): creates `<prefix>XXXXXX` with a random suffix, mode 0700, failing rather than reusing
    /// anything already there (a planted symlink or directory under a guessable name is never entered).
    public static func makeUniqueDirectory(prefix: String) throws(UniqueDirectoryError) -> String {
        var template = Array("\(prefix)XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }
        guard created != nil else { throw .create(template: prefix + "XXXXXX", Errno(rawValue: errno)) }
        return String(decoding: template.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
