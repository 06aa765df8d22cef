import NodeAgent

/// Decodes a chunked body pushed to it in pieces of any size; constant memory except for the
/// trailer section, which is bounded.
public struct ChunkedDecoder: Sendable {
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case invalidChunkSize(String)
        case chunkSizeLineTooLong
        case missingChunkTerminator
        case trailersTooLarge
        case malformedTrailers(String)

        public var description: String {
            switch self {
            case .invalidChunkSize(let line): "invalid chunk size line \"\(line)\""
            case .chunkSizeLineTooLong: "chunk size line too long"
            case .missingChunkTerminator: "chunk data not followed by CRLF"
            case .trailersTooLarge: "trailer section too large"
            case .malformedTrailers(let reason): "malformed trailer section: \(reason)"
            }
        }
    }

    private enum State: Sendable {
        case sizeLine([UInt8])
        case data(remaining: UInt64)
        case dataCR
        case dataLF
        case trailers([UInt8])
        case done
    }

    private var state: State = .sizeLine([])
    public private(set) var trailers = HTTPHeaders()
    public var isComplete: Bool { if case .done = state { true } else { false } }

    public init() {}

    /// Data bytes of the current chunk still to come (0 outside a chunk's data). A caller may take them from the
    /// connection itself (splice) and count them with `skipData`.
    public var dataRemaining: UInt64 { if case .data(let remaining) = state { remaining } else { 0 } }

    /// Counts `count` data bytes of the current chunk (at most `dataRemaining`) that were taken without `feed`.
    public mutating func skipData(_ count: UInt64) {
        guard case .data(let remaining) = state else { return }
        let left = remaining - min(count, remaining)
        state = left == 0 ? .dataCR : .data(remaining: left)
    }

    /// Feeds received bytes; `onData` gets each run of body bytes. Bytes after the end are ignored.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, onData: (UnsafeRawBufferPointer) throws -> Void) throws {
        var index = 0
        while index < bytes.count {
            switch state {
            case .done:
                return
            case .sizeLine(var line):
                let byte = bytes[index]
                index += 1
                if byte == HTTPSyntax.lf {
                    guard line.last == HTTPSyntax.cr else { throw Error.invalidChunkSize(HTTPSyntax.text(line[...])) }
                    line.removeLast()
                    let size = try Self.parseSize(line)
                    state = size == 0 ? .trailers([]) : .data(remaining: size)
                } else {
                    guard line.count < 1024 else { throw Error.chunkSizeLineTooLong }
                    line.append(byte)
                    state = .sizeLine(line)
                }
            case .data(let remaining):
                let available = UInt64(bytes.count - index)
                let take = Int(min(available, remaining))
                try onData(UnsafeRawBufferPointer(rebasing: bytes[index..<(index + take)]))
                index += take
                let left = remaining - UInt64(take)
                state = left == 0 ? .dataCR : .data(remaining: left)
            case .dataCR:
                guard bytes[index] == HTTPSyntax.cr else { throw Error.missingChunkTerminator }
                index += 1
                state = .dataLF
            case .dataLF:
                guard bytes[index] == HTTPSyntax.lf else { throw Error.missingChunkTerminator }
                index += 1
                state = .sizeLine([])
            case .trailers(var section):
                section.append(bytes[index])
                index += 1
                guard section.count <= 64 * 1024 else { throw Error.trailersTooLarge }
                if section == [HTTPSyntax.cr, HTTPSyntax.lf] {
                    state = .done
                } else if section.count >= 4, section.suffix(4).elementsEqual([13, 10, 13, 10]) {
                    switch HTTPHeadLines.split(section, maxHeadBytes: 64 * 1024, maxLineBytes: 64 * 1024) {
                    case .success(.complete(let lines, _)):
                        switch HTTPHeadLines.parseFields(lines, maxCount: 64) {
                        case .success(let fields): trailers = fields
                        case .failure(let failure): throw Error.malformedTrailers("\(failure)")
                        }
                        state = .done
                    case .success(.incomplete): state = .trailers(section)
                    case .failure(let failure): throw Error.malformedTrailers("\(failure)")
                    }
                } else {
                    state = .trailers(section)
                }
            }
        }
    }

    /// Hex digits, optionally followed by chunk extensions (";name=value"), which are ignored.
    private static func parseSize(_ line: [UInt8]) throws -> UInt64 {
        let digits = line.prefix { HTTPSyntax.hexValue($0) != nil }
        let rest = line.dropFirst(digits.count)
        guard !digits.isEmpty, digits.count <= 15, rest.isEmpty || rest.first == UInt8(ascii: ";") else {
            throw Error.invalidChunkSize(HTTPSyntax.text(line.prefix(64)))
        }
        var size: UInt64 = 0
        for digit in digits { size = size << 4 | UInt64(HTTPSyntax.hexValue(digit) ?? 0) }
        return size
    }
}
