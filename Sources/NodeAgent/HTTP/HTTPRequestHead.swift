/// A parsed HTTP/1.x request head: the only part of a request the agent accepts (no bodies).
public struct HTTPRequestHead: Equatable, Sendable {
    public var method: String
    /// The path part of the target, still percent-encoded (routes compare it exactly).
    public var path: String
    /// Decoded query parameters in order.
    public var query: [QueryItem]
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    public var minorVersion: Int
    public var headers: HTTPHeaders

    public struct QueryItem: Equatable, Sendable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public init(
        method: String, path: String, query: [QueryItem] = [], minorVersion: Int = 1,
        headers: HTTPHeaders = HTTPHeaders()
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.minorVersion = minorVersion
        self.headers = headers
    }

    /// The value of the first query parameter called `name`.
    public func queryValue(_ name: String) -> String? { query.first { $0.name == name }?.value }
}

/// A strict HTTP/1.1 request-head parser (RFC 9112), pure and total: every input gives a head,
/// "need more bytes", or an error naming what is wrong. What it refuses, on purpose:
/// bare CR or LF, obsolete line folding, whitespace before a header colon, controls in values,
/// targets other than origin-form, versions other than 1.0/1.1, a missing or repeated Host in 1.1,
/// Transfer-Encoding, and any Content-Length but a single 0 (the agent takes no request bodies).
public struct HTTPRequestParser: Sendable {
    public struct Limits: Sendable {
        /// The whole head, request line and headers, CRLFs included.
        public var maxHeadBytes = 16 * 1024
        /// One line (request line or header field).
        public var maxLineBytes = 8 * 1024
        public var maxHeaderCount = 64
        public var maxMethodBytes = 16
        public init() {}
    }

    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case bareLineFeed
        case bareCarriageReturn
        case headTooLarge(limit: Int)
        case lineTooLong(limit: Int)
        case tooManyHeaders(limit: Int)
        case obsoleteLineFolding
        case malformedRequestLine(String)
        case invalidMethod(String)
        case invalidTarget(String)
        case unsupportedVersion(String)
        case malformedHeader(String)
        case invalidHeaderName(String)
        case invalidHeaderValue(name: String)
        case missingHost
        case repeatedHost
        case transferEncodingNotAllowed
        case bodyNotAllowed(contentLength: String)

        public var description: String {
            switch self {
            case .bareLineFeed: "line feed without carriage return in the request head"
            case .bareCarriageReturn: "carriage return not followed by line feed in the request head"
            case .headTooLarge(let limit): "request head larger than \(limit) bytes"
            case .lineTooLong(let limit): "request line or header longer than \(limit) bytes"
            case .tooManyHeaders(let limit): "more than \(limit) header fields"
            case .obsoleteLineFolding: "folded header line (obsolete line folding is refused)"
            case .malformedRequestLine(let line): "malformed request line \"\(line)\""
            case .invalidMethod(let method): "invalid method \"\(method)\""
            case .invalidTarget(let target): "invalid request target \"\(target)\" (origin-form expected)"
            case .unsupportedVersion(let version): "unsupported protocol version \"\(version)\""
            case .malformedHeader(let line): "malformed header line \"\(line)\""
            case .invalidHeaderName(let name): "invalid header name \"\(name)\""
            case .invalidHeaderValue(let name): "invalid characters in the value of header \(name)"
            case .missingHost: "HTTP/1.1 request without a Host header"
            case .repeatedHost: "more than one Host header"
            case .transferEncodingNotAllowed: "Transfer-Encoding in a request (no request bodies are accepted)"
            case .bodyNotAllowed(let length): "request body not accepted (Content-Length \(length))"
            }
        }
    }

    public enum Outcome: Equatable, Sendable {
        /// The head is not complete yet: read more bytes.
        case needMoreBytes
        /// A complete head, and how many bytes of the input it used.
        case head(HTTPRequestHead, length: Int)
    }

    public var limits: Limits

    public init(limits: Limits = Limits()) { self.limits = limits }

    public func parse(_ bytes: [UInt8]) throws(Error) -> Outcome {
        let lines: [ArraySlice<UInt8>]
        let headLength: Int
        switch HTTPHeadLines.split(bytes, maxHeadBytes: limits.maxHeadBytes, maxLineBytes: limits.maxLineBytes) {
        case .failure(let failure): throw map(failure)
        case .success(.incomplete): return .needMoreBytes
        case .success(.complete(let found, let length)):
            lines = found
            headLength = length
        }
        guard let requestLine = lines.first else { throw .malformedRequestLine("") }
        var head = try parseRequestLine(requestLine)
        switch HTTPHeadLines.parseFields(Array(lines.dropFirst()), maxCount: limits.maxHeaderCount) {
        case .failure(let failure): throw map(failure)
        case .success(let headers): head.headers = headers
        }
        try checkFraming(head)
        return .head(head, length: headLength)
    }

    private func parseRequestLine(_ line: ArraySlice<UInt8>) throws(Error) -> HTTPRequestHead {
        let parts = line.split(separator: HTTPSyntax.space, omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .malformedRequestLine(HTTPSyntax.text(line.prefix(128))) }
        let method = parts[0]
        guard !method.isEmpty, method.count <= limits.maxMethodBytes, method.allSatisfy(HTTPSyntax.isTokenCharacter)
        else {
            throw .invalidMethod(HTTPSyntax.text(method.prefix(32)))
        }
        let version = HTTPSyntax.text(parts[2])
        let minor: Int
        switch version {
        case "HTTP/1.1": minor = 1
        case "HTTP/1.0": minor = 0
        default: throw .unsupportedVersion(String(version.prefix(32)))
        }
        let (path, query) = try parseTarget(parts[1])
        return HTTPRequestHead(method: HTTPSyntax.text(method), path: path, query: query, minorVersion: minor)
    }

    private func parseTarget(_ target: ArraySlice<UInt8>) throws(Error) -> (String, [HTTPRequestHead.QueryItem]) {
        let shown = HTTPSyntax.text(target.prefix(128))
        guard target.first == UInt8(ascii: "/"), target.allSatisfy(HTTPSyntax.isTargetCharacter) else {
            throw .invalidTarget(shown)
        }
        let questionMark = target.firstIndex(of: UInt8(ascii: "?"))
        let pathBytes = target[target.startIndex..<(questionMark ?? target.endIndex)]
        // The path stays encoded, but its escapes must be well formed.
        guard PercentDecoding.decode(pathBytes) != nil else { throw .invalidTarget(shown) }
        var items: [HTTPRequestHead.QueryItem] = []
        if let questionMark {
            let queryBytes = target[target.index(after: questionMark)...]
            for pair in queryBytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
                let equals = pair.firstIndex(of: UInt8(ascii: "="))
                let nameBytes = pair[pair.startIndex..<(equals ?? pair.endIndex)]
                let valueBytes = equals.map { pair[pair.index(after: $0)...] } ?? []
                guard let name = PercentDecoding.decode(nameBytes), let value = PercentDecoding.decode(valueBytes),
                    !name.isEmpty
                else {
                    throw .invalidTarget(shown)
                }
                items.append(HTTPRequestHead.QueryItem(name, value))
            }
        }
        return (HTTPSyntax.text(pathBytes), items)
    }

    private func checkFraming(_ head: HTTPRequestHead) throws(Error) {
        let hosts = head.headers.values("Host")
        if hosts.count > 1 { throw .repeatedHost }
        if head.minorVersion == 1 && hosts.isEmpty { throw .missingHost }
        if !head.headers.values("Transfer-Encoding").isEmpty { throw .transferEncodingNotAllowed }
        let lengths = head.headers.values("Content-Length")
        if lengths.count > 1 { throw .bodyNotAllowed(contentLength: lengths.joined(separator: ", ")) }
        if let length = lengths.first, length != "0" { throw .bodyNotAllowed(contentLength: length) }
    }

    private func map(_ failure: HTTPHeadLines.Failure) -> Error {
        switch failure {
        case .bareLineFeed: .bareLineFeed
        case .bareCarriageReturn: .bareCarriageReturn
        case .headTooLarge: .headTooLarge(limit: limits.maxHeadBytes)
        case .lineTooLong: .lineTooLong(limit: limits.maxLineBytes)
        case .tooManyHeaders: .tooManyHeaders(limit: limits.maxHeaderCount)
        case .obsoleteLineFolding: .obsoleteLineFolding
        case .malformedHeader(let line): .malformedHeader(line)
        case .invalidHeaderName(let name): .invalidHeaderName(name)
        case .invalidHeaderValue(let name): .invalidHeaderValue(name: name)
        }
    }
}

/// Percent-decoding for targets: nil for a broken escape or a result that is not UTF-8.
enum PercentDecoding {
    static func decode(_ bytes: ArraySlice<UInt8>) -> String? {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                guard bytes.distance(from: index, to: bytes.endIndex) >= 3,
                    let high = HTTPSyntax.hexValue(bytes[index + 1]), let low = HTTPSyntax.hexValue(bytes[index + 2])
                else { return nil }
                output.append(high << 4 | low)
                index += 3
            } else {
                output.append(byte)
                index += 1
            }
        }
        return String(validating: output, as: UTF8.self)
    }
}
