import JSONCoding
import NodeAgent
import NodeSys
import OverlayCapture
import SystemPackage

/// A minimal HTTP/1.1 client for the agent: one GET per connection, over NodeSys sockets.
/// No AsyncHTTPClient/NIO for the same reason as the server: `pull` lives in the same static binary.
public struct AgentClient: Sendable {
    public enum Error: Swift.Error, CustomStringConvertible {
        case connection(TCPStream.Error)
        case malformedResponse(from: SocketAddress, String)
        case status(from: SocketAddress, path: String, status: Int, message: String)
        case truncated(from: SocketAddress, path: String, received: UInt64)
        case tooLarge(from: SocketAddress, path: String, limit: Int)
        case reservedPortDenied(SocketAddress)

        public var description: String {
            switch self {
            case .connection(let error): "\(error)"
            case .malformedResponse(let from, let reason):
                "malformed response from \(from): \(DisplayText.safe(reason, limit: 512))"
            case .status(let from, let path, let status, let message):
                "\(from) answered \(status) \(HTTPResponseHead.standardReason(status)) to \(path)\(message.isEmpty ? "" : ": \(DisplayText.safe(message, limit: 512))")"
            case .truncated(let from, let path, let received):
                "\(from) closed the connection after \(received) bytes of \(path), before the end of the response"
            case .tooLarge(let from, let path, let limit):
                "response from \(from) to \(path) is larger than \(limit) bytes"
            case .reservedPortDenied(let to):
                "cannot connect to \(to) from a reserved source port (below 1024): without a token the agent only "
                    + "trusts those, which only root can bind; run as root, or give the agent a token "
                    + "(nodeinit.agent.token=) and pass --token-file"
            }
        }
    }

    public var endpoint: SocketAddress
    public var token: BearerToken?
    /// Local address to connect from (tests use 127.0.0.2 to look like another host).
    public var source: IPAddress?
    public var timeoutMilliseconds: Int32 = 60_000
    /// Connect from a reserved source port (below 1024), which an agent without a token requires. When this
    /// process may not bind one, a client with a token falls back to any port; one without fails.
    public var reservedSourcePort = true

    public init(endpoint: SocketAddress, token: BearerToken? = nil, source: IPAddress? = nil) {
        self.endpoint = endpoint
        self.token = token
        self.source = source
    }

    /// Sends `GET target` and reads the response head. The caller reads the body from the response
    /// and closes it.
    public func get(_ target: String) throws(Error) -> HTTPClientResponse {
        let connection = try connect()
        var request =
            "GET \(target) HTTP/1.1\r\nHost: \(endpoint)\r\nUser-Agent: nodeinit\r\nTE: trailers\r\nConnection: close\r\n"
        if let token { request += "Authorization: \(token.authorizationValue)\r\n" }
        request += "\r\n"
        do {
            try connection.send(request, timeoutMilliseconds: timeoutMilliseconds)
        } catch {
            connection.close()
            throw .connection(error)
        }
        do {
            return try HTTPClientResponse.read(from: connection, path: target, timeoutMilliseconds: timeoutMilliseconds)
        } catch {
            connection.close()
            throw error
        }
    }

    private func connect() throws(Error) -> TCPStream {
        let timeout = min(timeoutMilliseconds, 15_000)
        if reservedSourcePort {
            do {
                return try TCPStream.connectFromReservedPort(to: endpoint, from: source, timeoutMilliseconds: timeout)
            } catch .bind(_, let errno) where errno == .permissionDenied {
                guard token != nil else { throw .reservedPortDenied(endpoint) }
            } catch {
                throw .connection(error)
            }
        }
        do { return try TCPStream.connect(to: endpoint, from: source, timeoutMilliseconds: timeout) } catch {
            throw .connection(error)
        }
    }

    /// GET with a small body (JSON), failing on any status but 200 with the agent's error message.
    public func getSmall(_ target: String, limit: Int = 64 << 20) throws(Error) -> (
        head: HTTPResponseHead, body: [UInt8]
    ) {
        var response = try get(target)
        defer { response.close() }
        let body = try response.readAll(limit: limit)
        try response.requireSuccess(body: body)
        return (response.head, body)
    }
}

/// A response whose head has been read; the body is read incrementally.
public struct HTTPClientResponse: Sendable {
    public let head: HTTPResponseHead
    let connection: TCPStream
    let path: String
    let timeoutMilliseconds: Int32
    private var framing: Framing
    /// Body bytes that came with the head, not decoded yet: `leftover[leftoverStart...]`.
    private let leftover: [UInt8]
    private var leftoverStart = 0
    /// Cleared when the output's file system refuses splice(2): `spliceBody` then copies through memory.
    private var splicesToFile = true
    public private(set) var trailers = HTTPHeaders()
    public private(set) var bodyBytesReceived: UInt64 = 0

    private enum Framing: Sendable {
        case length(remaining: UInt64)
        case chunked(ChunkedDecoder)
        case untilClose
    }

    static func read(from connection: TCPStream, path: String, timeoutMilliseconds: Int32) throws(AgentClient.Error)
        -> HTTPClientResponse
    {
        var received: [UInt8] = []
        let parser = HTTPResponseParser()
        while true {
            let chunk: [UInt8]
            do { chunk = try connection.receive(maxCount: 16384, timeoutMilliseconds: timeoutMilliseconds) } catch {
                throw .connection(error)
            }
            if chunk.isEmpty { throw .truncated(from: connection.peer, path: path, received: 0) }
            received.append(contentsOf: chunk)
            let outcome: HTTPResponseParser.Outcome
            do { outcome = try parser.parse(received) } catch {
                throw .malformedResponse(from: connection.peer, error.description)
            }
            guard case .head(let head, let length) = outcome else { continue }
            let framing: Framing
            if let encoding = head.headers["Transfer-Encoding"] {
                guard encoding.lowercased() == "chunked" else {
                    throw .malformedResponse(from: connection.peer, "unsupported Transfer-Encoding \(encoding)")
                }
                framing = .chunked(ChunkedDecoder())
            } else if let lengthText = head.headers["Content-Length"] {
                guard let value = UInt64(lengthText) else {
                    throw .malformedResponse(from: connection.peer, "invalid Content-Length \(lengthText)")
                }
                framing = .length(remaining: value)
            } else {
                framing = .untilClose
            }
            return HTTPClientResponse(
                head: head, connection: connection, path: path, timeoutMilliseconds: timeoutMilliseconds,
                pending: Array(received[length...]), framing: framing)
        }
    }

    private init(
        head: HTTPResponseHead, connection: TCPStream, path: String, timeoutMilliseconds: Int32, pending: [UInt8],
        framing: Framing
    ) {
        self.head = head
        self.connection = connection
        self.path = path
        self.timeoutMilliseconds = timeoutMilliseconds
        self.leftover = pending
        self.framing = framing
    }

    /// Reads the next body bytes into `buffer`; 0 at the end of the body. Throws `truncated` when the
    /// connection ends before the body does (chunked without its last chunk, or short of Content-Length).
    ///
    /// Each receive goes straight into `buffer` and is decoded there: the framing (chunk size lines, CRLFs) is
    /// squeezed out by moving the data after it down, so body bytes are copied only in the rare receive that
    /// holds a chunk boundary, never through a buffer of this response's own.
    public mutating func readBody(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        while true {
            if isFinished { return 0 }
            var produced = 0
            if leftoverStart < leftover.count {
                // What the head's read brought along: at most `buffer.count` bytes of it, whose data fits.
                let take = min(leftover.count - leftoverStart, buffer.count)
                let start = leftoverStart
                let bytes = leftover
                try bytes.withUnsafeBytes { raw in
                    try consume(UnsafeRawBufferPointer(rebasing: raw[start..<(start + take)])) { data in
                        UnsafeMutableRawBufferPointer(rebasing: buffer[produced..<(produced + data.count)])
                            .copyMemory(from: data)
                        produced += data.count
                    }
                }
                leftoverStart += take
            } else {
                let count: Int
                do { count = try connection.receive(into: buffer, timeoutMilliseconds: timeoutMilliseconds) } catch {
                    throw AgentClient.Error.connection(error)
                }
                if count == 0 {
                    if case .untilClose = framing {
                        framing = .length(remaining: 0)
                        return 0
                    }
                    throw AgentClient.Error.truncated(from: connection.peer, path: path, received: bodyBytesReceived)
                }
                // Data runs come out in order and never ahead of the bytes still to decode, so moving each down
                // to the end of the previous one (memmove: the ranges may overlap) overwrites only decoded bytes.
                try consume(UnsafeRawBufferPointer(rebasing: buffer[0..<count])) { data in
                    if let from = data.baseAddress, from != UnsafeRawPointer(base + produced) {
                        (base + produced).copyMemory(from: from, byteCount: data.count)
                    }
                    produced += data.count
                }
            }
            if produced > 0 { return produced }
        }
    }

    /// Moves the next body bytes into `file` at its offset without bringing them into this process: a chunk's data
    /// (or a Content-Length body) is spliced from the socket into `pipe` and from the pipe into the file; only the
    /// framing (size lines, CRLFs, trailers) is received into memory, and the bytes that came with the head are
    /// written from memory (through `scratch`). Returns how many body bytes went to the file, 0 at the end of the
    /// body. `pipe` must be empty, `maxCount` at most its capacity. Throws like `readBody`, and `FileTree.Error`
    /// when the file cannot be written; a file system that takes no splice (EINVAL) gets its bytes through
    /// `scratch` from then on.
    public mutating func spliceBody(
        to file: FileDescriptor, path: String, through pipe: (readEnd: FileDescriptor, writeEnd: FileDescriptor),
        maxCount: Int, scratch: UnsafeMutableRawBufferPointer
    ) throws -> Int {
        while true {
            if isFinished { return 0 }
            if leftoverStart < leftover.count || !splicesToFile {
                let count = try readBody(into: scratch)
                if count > 0 {
                    try Self.write(UnsafeRawBufferPointer(rebasing: scratch[0..<count]), to: file, path: path)
                }
                return count
            }
            let available: UInt64
            switch framing {
            case .length(let remaining): available = remaining
            case .untilClose: available = UInt64(maxCount)
            case .chunked(let decoder):
                available = decoder.dataRemaining
                if available == 0 {
                    try receiveFraming()
                    continue
                }
            }
            let count: Int
            do {
                count = try connection.receive(
                    toPipe: pipe.writeEnd, maxCount: Int(min(available, UInt64(max(1, maxCount)))),
                    timeoutMilliseconds: timeoutMilliseconds)
            } catch {
                throw AgentClient.Error.connection(error)
            }
            if count == 0 {
                if case .untilClose = framing {
                    framing = .length(remaining: 0)
                    return 0
                }
                throw AgentClient.Error.truncated(from: connection.peer, path: self.path, received: bodyBytesReceived)
            }
            let spliced = Result { () throws(FileTree.Error) in
                try FileTree.splice(from: pipe.readEnd, to: file, count: count, path: path)
            }
            if case .failure(let error) = spliced {
                guard case .system(_, _, .invalidArgument) = error else { throw error }
                splicesToFile = false
                try Self.copy(count, from: pipe.readEnd, to: file, path: path, scratch: scratch)
            }
            switch framing {
            case .length(let remaining): framing = .length(remaining: remaining - UInt64(count))
            case .untilClose: break
            case .chunked(var decoder):
                decoder.skipData(UInt64(count))
                framing = .chunked(decoder)
            }
            bodyBytesReceived &+= UInt64(count)
            return count
        }
    }

    /// Receives a chunk's framing up to where its data begins (or to the end of the trailers), and not a byte
    /// further: the bytes are peeked, fed to the decoder one at a time, and then exactly those are received.
    private mutating func receiveFraming() throws {
        guard case .chunked(var decoder) = framing else { return }
        var peeked = [UInt8](repeating: 0, count: 512)
        let count = try receive(into: &peeked, range: 0..<peeked.count, peek: true)
        if count == 0 {
            throw AgentClient.Error.truncated(from: connection.peer, path: path, received: bodyBytesReceived)
        }
        var consumed = 0
        do {
            while consumed < count, decoder.dataRemaining == 0, !decoder.isComplete {
                // One byte at a time, so the decoder stops where the data begins; it emits no data from these.
                try peeked.withUnsafeBytes { raw in
                    try decoder.feed(UnsafeRawBufferPointer(rebasing: raw[consumed..<(consumed + 1)])) { _ in }
                }
                consumed += 1
            }
        } catch let error as ChunkedDecoder.Error {
            throw AgentClient.Error.malformedResponse(from: connection.peer, error.description)
        }
        var taken = 0
        while taken < consumed {
            let step = try receive(into: &peeked, range: taken..<consumed, peek: false)
            if step == 0 {
                throw AgentClient.Error.truncated(from: connection.peer, path: path, received: bodyBytesReceived)
            }
            taken += step
        }
        if decoder.isComplete { trailers = decoder.trailers }
        framing = .chunked(decoder)
    }

    private func receive(into bytes: inout [UInt8], range: Range<Int>, peek: Bool) throws(AgentClient.Error) -> Int {
        let connection = self.connection
        let timeout = timeoutMilliseconds
        let result = bytes.withUnsafeMutableBytes { raw in
            Result { () throws(TCPStream.Error) in
                try connection.receive(
                    into: UnsafeMutableRawBufferPointer(rebasing: raw[range]), peek: peek, timeoutMilliseconds: timeout)
            }
        }
        switch result {
        case .success(let count): return count
        case .failure(let error): throw .connection(error)
        }
    }

    private static func write(_ bytes: UnsafeRawBufferPointer, to file: FileDescriptor, path: String)
        throws(FileTree.Error)
    {
        do { _ = try file.writeAll(bytes) } catch {
            throw .system(operation: "write", path: path, errno: (error as? Errno) ?? .ioError)
        }
    }

    /// The pipe's `count` bytes into the file through `scratch`.
    private static func copy(
        _ count: Int, from pipe: FileDescriptor, to file: FileDescriptor, path: String,
        scratch: UnsafeMutableRawBufferPointer
    ) throws(FileTree.Error) {
        var left = count
        while left > 0 {
            let step: Int
            do {
                step = try pipe.read(
                    into: UnsafeMutableRawBufferPointer(rebasing: scratch[0..<min(left, scratch.count)]))
            } catch { throw .system(operation: "read", path: "the receive pipe", errno: (error as? Errno) ?? .ioError) }
            if step == 0 { throw .system(operation: "read (pipe empty)", path: "the receive pipe", errno: .ioError) }
            try write(UnsafeRawBufferPointer(rebasing: scratch[0..<step]), to: file, path: path)
            left -= step
        }
    }

    /// Streams the body to `onData` until its end.
    public mutating func streamBody(_ onData: (UnsafeRawBufferPointer) throws -> Void) throws {
        var buffer = [UInt8](repeating: 0, count: 256 * 1024)
        while true {
            let count = try buffer.withUnsafeMutableBytes { try readBody(into: $0) }
            if count == 0 { return }
            try buffer.withUnsafeBytes { try onData(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        }
    }

    private var isFinished: Bool {
        switch framing {
        case .length(let remaining): remaining == 0
        case .chunked(let decoder): decoder.isComplete
        case .untilClose: false
        }
    }

    private mutating func consume(_ raw: UnsafeRawBufferPointer, _ onData: (UnsafeRawBufferPointer) throws -> Void)
        throws
    {
        switch framing {
        case .length(let remaining):
            let take = Int(min(UInt64(raw.count), remaining))
            try onData(UnsafeRawBufferPointer(rebasing: raw[0..<take]))
            bodyBytesReceived &+= UInt64(take)
            framing = .length(remaining: remaining - UInt64(take))
        case .untilClose:
            try onData(raw)
            bodyBytesReceived &+= UInt64(raw.count)
        case .chunked(var decoder):
            var received: UInt64 = 0
            do {
                try decoder.feed(raw) { data in
                    received &+= UInt64(data.count)
                    try onData(data)
                }
            } catch let error as ChunkedDecoder.Error {
                throw AgentClient.Error.malformedResponse(from: connection.peer, error.description)
            }
            bodyBytesReceived &+= received
            if decoder.isComplete { trailers = decoder.trailers }
            framing = .chunked(decoder)
        }
    }

    /// Reads the whole body into memory, up to `limit` bytes.
    public mutating func readAll(limit: Int) throws(AgentClient.Error) -> [UInt8] {
        var body: [UInt8] = []
        let peer = connection.peer
        let path = self.path
        do {
            try streamBody { data in
                guard body.count + data.count <= limit else {
                    throw AgentClient.Error.tooLarge(from: peer, path: path, limit: limit)
                }
                body.append(contentsOf: data)
            }
        } catch let error as AgentClient.Error {
            throw error
        } catch {
            throw .malformedResponse(from: peer, "\(error)")
        }
        return body
    }

    /// Throws `status` for anything but 200, with the agent's `{"error": ...}` message when present.
    public func requireSuccess(body: [UInt8]) throws(AgentClient.Error) {
        guard head.status != 200 else { return }
        struct ErrorBody: Decodable { var error: String }
        let message =
            (try? JSONCoding.decode(ErrorBody.self, from: body, parser: JSONParser(maximumBytes: 1 << 20)))?.error
            ?? String(decoding: body.prefix(200), as: UTF8.self)
        throw .status(from: connection.peer, path: path, status: head.status, message: message)
    }

    public func close() { connection.close() }
}
