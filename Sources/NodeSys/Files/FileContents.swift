import Glibc
import SystemPackage

/// Whole-file reads and writes for small kernel and configuration files (/proc, /sys, modules.*).
public enum FileContents {
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case open(path: String, Errno)
        case read(path: String, Errno)
        case write(path: String, Errno)
        case tooLarge(path: String, limit: Int)

        public var description: String {
            switch self {
            case .open(let path, let errno): "cannot open \(path): \(errno.report)"
            case .read(let path, let errno): "cannot read \(path): \(errno.report)"
            case .write(let path, let errno): "cannot write \(path): \(errno.report)"
            case .tooLarge(let path, let limit): "\(path) is larger than \(limit) bytes"
            }
        }
    }

    /// Reads a file to its end. /proc and /sys files report size 0, so this reads in chunks
    /// rather than trusting fstat.
    public static func bytes(at path: String, limit: Int = 64 << 20) throws(Error) -> [UInt8] {
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec])
        } catch {
            throw .open(path: path, Errno(thrown: error))
        }
        defer { try? fd.close() }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count: Int
            do {
                count = try chunk.withUnsafeMutableBytes { try fd.read(into: $0) }
            } catch {
                throw .read(path: path, Errno(thrown: error))
            }
            if count == 0 { break }
            result.append(contentsOf: chunk[0..<count])
            if result.count > limit { throw .tooLarge(path: path, limit: limit) }
        }
        return result
    }

    public static func string(at path: String, limit: Int = 64 << 20) throws(Error) -> String {
        String(decoding: try bytes(at: path, limit: limit), as: UTF8.self)
    }

    /// Writes (replacing) a file with `mode` permissions.
    public static func write(
        _ text: String, to path: String, mode: FilePermissions = [.ownerReadWrite, .groupRead, .otherRead],
        append: Bool = false
    ) throws(Error) {
        let fd: FileDescriptor
        do {
            var options: FileDescriptor.OpenOptions = [.create, .closeOnExec]
            options.insert(append ? .append : .truncate)
            fd = try FileDescriptor.open(FilePath(path), .writeOnly, options: options, permissions: mode)
        } catch {
            throw .open(path: path, Errno(thrown: error))
        }
        defer { try? fd.close() }
        do {
            _ = try fd.writeAll(text.utf8)
        } catch {
            throw .write(path: path, Errno(thrown: error))
        }
    }
}
