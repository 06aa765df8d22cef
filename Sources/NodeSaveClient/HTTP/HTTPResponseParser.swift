import NodeAgent

/// Parses a response head, with the same strictness as requests.
public struct HTTPResponseParser: Sendable {
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case malformedHead(String)
        case malformedStatusLine(String)

        public var description: String {
            switch self {
            case .malformedHead(let reason): "malformed response head: \(reason)"
            case .malformedStatusLine(let line): "malformed status line \"\(line)\""
            }
        }
    }

    public enum Outcome: Equatable, Sendable {
        case needMoreBytes
        case head(HTTPResponseHead, length: Int)
    }

    public var maxHeadBytes = 64 * 1024
    public var maxHeaderCount = 128

    public init() {}

    public func parse(_ bytes: [UInt8]) throws(Error) -> Outcome {
        let lines: [ArraySlice<UInt8>]
        let headLength: Int
        switch HTTPHeadLines.split(bytes, maxHeadBytes: maxHeadBytes, maxLineBytes: maxHeadBytes) {
        case .failure(let failure): throw .malformedHead("\(failure)")
        case .success(.incomplete): return .needMoreBytes
        case .success(.complete(let found, let length)):
            lines = found
            headLength = length
        }
        guard let statusLine = lines.first else { throw .malformedStatusLine("") }
        // "HTTP/1.x SSS reason" (the reason may be empty or hold spaces).
        let shown = HTTPSyntax.text(statusLine.prefix(128))
        let parts = statusLine.split(separator: HTTPSyntax.space, maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].elementsEqual("HTTP/1.1".utf8) || parts[0].elementsEqual("HTTP/1.0".utf8),
            parts[1].count == 3, parts[1].allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let status = Int(HTTPSyntax.text(parts[1]))
        else { throw .malformedStatusLine(shown) }
        let reason = parts.count == 3 ? HTTPSyntax.text(parts[2]) : ""
        switch HTTPHeadLines.parseFields(Array(lines.dropFirst()), maxCount: maxHeaderCount) {
        case .failure(let failure): throw .malformedHead("\(failure)")
        case .success(let headers):
            return .head(HTTPResponseHead(status: status, reason: reason, headers: headers), length: headLength)
        }
    }
}
