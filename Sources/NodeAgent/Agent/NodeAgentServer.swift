import Logging
import NodeSys
import Synchronization

/// The node-save agent: HTTP/1.1 over TCP, one thread per connection, one request per connection.
///
/// No SwiftNIO on purpose: this server is linked into the static /init that every node unpacks at
/// every boot, and NIO would grow it from about 7.4 MB to 18.8 MB stripped. A handful of blocking
/// sockets and pthreads carry the few requests a node sees (a save now and then, health checks).
public final class NodeAgentServer: Sendable {
    public let configuration: AgentConfiguration
    public let localAddress: SocketAddress
    let listener: TCPListener
    let producer: any LayerProducer
    let slots = CaptureSlots()
    let logger: Logger
    let startedAt = ContinuousClock.now
    private let stopping = Atomic<Bool>(false)
    let openConnections = Atomic<Int>(0)
    /// Lines about refused or malformed requests, which anyone can cause.
    let refusalLog = LogThrottle()
    private let acceptThread = Mutex<NativeThread?>(nil)

    /// Binds the listening socket (so a port conflict fails here, before the caller detaches).
    public init(configuration: AgentConfiguration, producer: any LayerProducer, logger: Logger) throws {
        // A client leaving mid-stream must never kill the agent: sockets use MSG_NOSIGNAL, and the
        // capture writes into a pipe whose reader may vanish.
        ProcessControls.ignoreBrokenPipeSignal()
        self.configuration = configuration
        self.producer = producer
        self.logger = logger
        listener = try TCPListener.listen(on: configuration.listenAddress, port: configuration.port)
        localAddress = listener.localAddress
    }

    /// Accepts connections until `stop()`; each runs on its own detached thread.
    public func run() {
        let allow = configuration.access.allowlist.map(\.description).joined(separator: " ")
        logger.info(
            "agent listening on \(localAddress), allow \(allow), token \(configuration.access.token == nil ? "off" : "required")"
        )
        while !stopping.load(ordering: .acquiring) {
            let connection: TCPStream
            do {
                connection = try listener.accept()
            } catch {
                if stopping.load(ordering: .acquiring) { break }
                logger.error("\(error)")
                // EMFILE and the like: do not spin; the condition usually clears as connections end.
                Pause.sleep(milliseconds: 100)
                continue
            }
            // Peers that may not use the agent (outside the allowlist, or from an unreserved port when no
            // token is configured) are answered 403 here, before anything is read and without a thread:
            // they cannot take any of the connections kept for allowed clients.
            if case .denied(let reason) = configuration.access.admit(connection.peer) {
                refuseAtAccept(connection, reason: reason)
                continue
            }
            // Each connection costs a thread: past the cap, new ones are closed at once (a node
            // is saved by one server, now and then; many connections mean a scan or a flood).
            if openConnections.add(1, ordering: .acquiringAndReleasing).newValue > configuration.maxConnections {
                openConnections.subtract(1, ordering: .acquiringAndReleasing)
                if let line = refusalLog.admit(
                    "\(connection.peer): closed at once, \(configuration.maxConnections) connections already open")
                {
                    logger.warning("\(line)")
                }
                connection.close()
                continue
            }
            let handler = ConnectionHandler(server: self, connection: connection)
            do {
                try NativeThread.detach { [self] in
                    handler.run()
                    openConnections.subtract(1, ordering: .acquiringAndReleasing)
                }
            } catch {
                openConnections.subtract(1, ordering: .acquiringAndReleasing)
                logger.error("\(connection.peer): \(error); closing the connection")
                connection.close()
            }
        }
    }

    /// 403 without reading the request: the response fits in an empty socket buffer, so the send never waits
    /// (a peer that does not read costs nothing). Whatever the peer already sent is discarded without
    /// waiting before the close, so the close sends FIN rather than a reset that could hide the 403.
    private func refuseAtAccept(_ connection: TCPStream, reason: String) {
        defer { connection.close() }
        if let line = refusalLog.admit("denied \(connection.peer) at connect: \(reason)") {
            logger.warning("\(line)")
        }
        var response = HTTPResponseHead(status: 403)
        let body = ConnectionHandler.encode(["error": "forbidden"])
        response.headers.append("Content-Type", "application/json")
        response.headers.append("Content-Length", String(body.count))
        response.headers.append("Connection", "close")
        try? connection.send(response.serialized + body, timeoutMilliseconds: 0)
        connection.shutdownSending()
        for _ in 0..<4 {
            guard let chunk = try? connection.receive(maxCount: 16384, timeoutMilliseconds: 0), !chunk.isEmpty else {
                break
            }
        }
    }

    /// Runs `run()` on a background thread (tests, or a caller with other work).
    public func start() throws {
        let thread = try NativeThread.start { [self] in run() }
        acceptThread.withLock { $0 = thread }
    }

    /// Stops accepting and waits for the accept loop; connections in progress finish on their own.
    public func stop() {
        stopping.store(true, ordering: .releasing)
        listener.shutdown()
        let thread = acceptThread.withLock { current -> NativeThread? in
            defer { current = nil }
            return current
        }
        thread?.join()
        listener.close()
    }

    var uptimeSeconds: Double {
        let elapsed = ContinuousClock.now - startedAt
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    /// Captures in progress (for health and tests).
    public var activeCaptures: Int { slots.activeCount }
}
