import ExtrasBase64
import JSONCoding
import Logging
import NodeSys
import OverlayCapture
import SystemPackage

/// Serves one connection: reads one request head, checks access, answers, closes.
struct ConnectionHandler: Sendable {
    let server: NodeAgentServer
    let connection: TCPStream

    private var peer: IPAddress { connection.peer.address.unmappedIPv4 }
    private var logger: Logger { server.logger }

    func run() {
        defer { connection.close() }
        let head: HTTPRequestHead
        switch readHead() {
        case .closed:
            return
        case .timedOut:
            respondError(408, "request head not received in time", method: "-", path: "-")
            return
        case .invalid(let error):
            // Peers outside the allowlist never get here: they are refused at accept (NodeAgentServer).
            respondError(400, error.description, method: "-", path: "-")
            return
        case .head(let parsed):
            head = parsed
        }
        if case .denied(let reason) = server.configuration.access.decide(
            peer: peer, authorization: head.headers.values("Authorization"))
        {
            deny(reason, method: head.method, path: head.path)
            return
        }
        route(head)
    }

    // MARK: - Reading

    private enum HeadResult {
        case head(HTTPRequestHead)
        case invalid(HTTPRequestParser.Error)
        case timedOut
        case closed
    }

    private func readHead() -> HeadResult {
        let parser = HTTPRequestParser()
        var received: [UInt8] = []
        let timeout = server.configuration.requestTimeoutMilliseconds
        let deadline = ContinuousClock.now + .milliseconds(Int(timeout))
        while true {
            let left = ContinuousClock.now.duration(to: deadline)
            if left <= .zero { return .timedOut }
            let milliseconds = Int32(
                clamping: left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1)
            let chunk: [UInt8]
            do {
                chunk = try connection.receive(maxCount: 4096, timeoutMilliseconds: milliseconds)
            } catch .receiveTimedOut {
                return .timedOut
            } catch {
                logger.debug("\(connection.peer): \(error)")
                return .closed
            }
            if chunk.isEmpty {
                if !received.isEmpty {
                    logger.notice("\(connection.peer): closed the connection in the middle of a request head")
                }
                return .closed
            }
            received.append(contentsOf: chunk)
            do {
                switch try parser.parse(received) {
                case .needMoreBytes: continue
                case .head(let head, _): return .head(head)
                }
            } catch {
                return .invalid(error)
            }
        }
    }

    // MARK: - Routing

    private func route(_ head: HTTPRequestHead) {
        let known = ["/v1/health", "/v1/summary", "/v1/layer"]
        guard known.contains(head.path) else {
            respondError(404, "no such endpoint \(head.path) (endpoints: \(known.joined(separator: ", ")))", head: head)
            return
        }
        guard head.method == "GET" else {
            respondError(405, "method \(head.method) not allowed, only GET", head: head, extra: [("Allow", "GET")])
            return
        }
        switch head.path {
        case "/v1/health": health(head)
        case "/v1/summary": summary(head)
        default: layer(head)
        }
    }

    /// Rejects unknown query parameters: a typo ("?compres=zstd") must not silently change the result.
    private func checkQuery(_ head: HTTPRequestHead, allowed: [String]) -> Bool {
        for item in head.query where !allowed.contains(item.name) {
            let expected = allowed.isEmpty ? "none" : allowed.joined(separator: ", ")
            respondError(400, "unknown query parameter \"\(item.name)\" (accepted: \(expected))", head: head)
            return false
        }
        return true
    }

    private struct Health: Encodable {
        var version: String
        var uptimeSeconds: Double
        var upperDirectory: String
        var capturesInProgress: Int
    }

    private func health(_ head: HTTPRequestHead) {
        guard checkQuery(head, allowed: []) else { return }
        let body = Health(
            version: server.configuration.version, uptimeSeconds: (server.uptimeSeconds * 1000).rounded() / 1000,
            upperDirectory: server.configuration.upperDirectory, capturesInProgress: server.activeCaptures)
        respond(200, json: Self.encode(body), head: head)
    }

    private func summary(_ head: HTTPRequestHead) {
        guard checkQuery(head, allowed: ["paths"]) else { return }
        let includePaths: Bool
        switch head.queryValue("paths") {
        case nil, "0", "false": includePaths = false
        case "1", "true": includePaths = true
        case let other?:
            respondError(400, "paths must be 0 or 1, not \"\(other)\"", head: head)
            return
        }
        guard acquireSlot(head, .summary) else { return }
        if let failure = ProcessControls.lowerCurrentThreadPriority() {
            logger.warning("cannot lower capture priority: \(failure)")
        }
        let result = Result { try server.producer.summary(includePaths: includePaths) }
        server.slots.release(peer, .summary)
        switch result {
        case .success(let summary):
            respond(
                200, json: summary.json, head: head,
                extra: [
                    (AgentHeaders.entryCount, String(summary.entryCount)),
                    (AgentHeaders.contentBytes, String(summary.contentBytes)),
                ])
        case .failure(let error):
            respondError(500, "summary failed: \(error)", head: head)
        }
    }

    private func acquireSlot(_ head: HTTPRequestHead, _ kind: CaptureSlots.Kind) -> Bool {
        if server.slots.acquire(peer, kind) { return true }
        respondError(
            429, "a \(kind.rawValue) capture for \(peer) is already running; retry when it ends", head: head,
            extra: [("Retry-After", "5")])
        return false
    }

    // MARK: - Layer streaming

    private func layer(_ head: HTTPRequestHead) {
        guard checkQuery(head, allowed: ["compress"]) else { return }
        let compressionName = head.queryValue("compress") ?? "none"
        guard let compression = LayerCompressionFormat(rawValue: compressionName) else {
            let names = LayerCompressionFormat.allCases.map(\.rawValue).joined(separator: ", ")
            respondError(400, "compress must be one of \(names), not \"\(compressionName)\"", head: head)
            return
        }
        guard acquireSlot(head, .layer) else { return }
        var slotHeld = true
        defer { if slotHeld { server.slots.release(peer, .layer) } }

        let pipe: (readEnd: FileDescriptor, writeEnd: FileDescriptor)
        do { pipe = try FileDescriptor.pipe() } catch {
            respondError(500, "cannot create a pipe: \(error)", head: head)
            return
        }
        var readEndOpen = true
        // 1 MiB chunks at most: fewer wake-ups and system calls per byte on both sides.
        FileTree.enlargePipeBuffer(pipe.readEnd, to: 1 << 20)
        defer { if readEndOpen { try? pipe.readEnd.close() } }
        let producer = server.producer
        let writeEnd = pipe.writeEnd
        let started = ContinuousClock.now
        let capture: ThreadedValue<[UInt8]>
        do {
            capture = try ThreadedValue {
                defer { try? writeEnd.close() }
                ProcessControls.lowerCurrentThreadPriority()
                return try producer.writeLayer(to: writeEnd, compression: compression)
            }
        } catch {
            try? writeEnd.close()
            respondError(500, "cannot start the capture: \(error)", head: head)
            return
        }

        var sentBytes: UInt64 = 0
        /// Ends the stream early: closing the read end makes the capture's next write fail with
        /// EPIPE, so the capture thread stops; then wait for it.
        func abandon(_ reason: String) {
            try? pipe.readEnd.close()
            readEndOpen = false
            _ = capture.wait()
            logger.notice("\(connection.peer) GET \(head.path): stream ended after \(sentBytes) bytes: \(reason)")
        }

        var responseHead = HTTPResponseHead(status: 200)
        responseHead.headers.append("Content-Type", compression.mediaType)
        responseHead.headers.append("Transfer-Encoding", "chunked")
        responseHead.headers.append("Trailer", AgentHeaders.report)
        responseHead.headers.append("Cache-Control", "no-store")
        responseHead.headers.append("Connection", "close")
        do {
            try connection.send(
                responseHead.serialized, timeoutMilliseconds: server.configuration.sendTimeoutMilliseconds)
        } catch {
            abandon("client gone before the layer started: \(error)")
            return
        }

        // One chunk per batch the pipe holds: its size line, then the bytes themselves spliced from the pipe into
        // the socket (the kernel passes the pages on; nothing is copied through this process), then its CRLF.
        let timeout = server.configuration.sendTimeoutMilliseconds
        while true {
            let count: Int
            do { count = try FileTree.waitForPipeData(pipe.readEnd, path: "the capture pipe") } catch {
                abandon("cannot read the capture pipe: \(error)")
                return
            }
            if count == 0 { break }
            do {
                try connection.send(ChunkedEncoding.chunkPrefix(size: count), more: true, timeoutMilliseconds: timeout)
                try connection.send(fromPipe: pipe.readEnd, count: count, more: true, timeoutMilliseconds: timeout)
                try connection.send(ChunkedEncoding.chunkSuffix, timeoutMilliseconds: timeout)
            } catch {
                abandon(error.isPeerGone ? "client disconnected (\(error))" : "\(error)")
                return
            }
            sentBytes &+= UInt64(count)
        }
        let outcome = capture.wait()
        try? pipe.readEnd.close()
        readEndOpen = false
        // Free the slot before the last chunk: a client that sends its next request as soon as the
        // stream ends must not race the release and get a spurious 429.
        server.slots.release(peer, .layer)
        slotHeld = false
        let elapsed = ContinuousClock.now - started
        switch outcome {
        case .success(let report):
            var trailers = HTTPHeaders()
            trailers.append(AgentHeaders.report, Base64.encodeToString(bytes: report))
            do {
                try connection.send(
                    ChunkedEncoding.lastChunk(trailers: trailers),
                    timeoutMilliseconds: server.configuration.sendTimeoutMilliseconds)
            } catch {
                logger.notice("\(connection.peer) GET \(head.path): client left before the end of the stream: \(error)")
                return
            }
            logger.info(
                "\(connection.peer) GET \(head.path)?compress=\(compression.rawValue) -> 200, \(sentBytes) bytes in \(elapsed); report \(String(decoding: report, as: UTF8.self))"
            )
        case .failure(let error):
            // No last chunk: the client sees a truncated transfer, never a short layer that looks complete.
            logger.error("\(connection.peer) GET \(head.path): capture failed after \(sentBytes) bytes: \(error)")
        }
    }

    // MARK: - Responses

    private func deny(_ reason: String, method: String, path: String) {
        if let line = server.refusalLog.admit("denied \(connection.peer) \(method) \(path): \(reason)") {
            logger.warning("\(line)")
        }
        send(status: 403, body: Self.encode(["error": "forbidden"]), contentType: "application/json", extra: [])
    }

    private func respond(_ status: Int, json: [UInt8], head: HTTPRequestHead, extra: [(String, String)] = []) {
        logger.info("\(connection.peer) \(head.method) \(head.path) -> \(status), \(json.count) bytes")
        send(status: status, body: json, contentType: "application/json", extra: extra)
    }

    private func respondError(_ status: Int, _ message: String, head: HTTPRequestHead, extra: [(String, String)] = []) {
        respondError(status, message, method: head.method, path: head.path, extra: extra)
    }

    private func respondError(
        _ status: Int, _ message: String, method: String, path: String, extra: [(String, String)] = []
    ) {
        if let line = server.refusalLog.admit("\(connection.peer) \(method) \(path) -> \(status): \(message)") {
            logger.notice("\(line)")
        }
        send(status: status, body: Self.encode(["error": message]), contentType: "application/json", extra: extra)
    }

    private func send(status: Int, body: [UInt8], contentType: String, extra: [(String, String)]) {
        var response = HTTPResponseHead(status: status)
        response.headers.append("Content-Type", contentType)
        response.headers.append("Content-Length", String(body.count))
        response.headers.append("Cache-Control", "no-store")
        response.headers.append("Connection", "close")
        for (name, value) in extra { response.headers.append(name, value) }
        do {
            try connection.send(
                response.serialized + body, timeoutMilliseconds: server.configuration.sendTimeoutMilliseconds)
        } catch {
            logger.notice("\(connection.peer): response \(status) not delivered: \(error)")
        }
    }

    static func encode<T: Encodable>(_ value: T) -> [UInt8] {
        ((try? JSONCoding.encode(value)) ?? Array("{}".utf8)) + [10]
    }
}
