import BootConfig
import NodeSys
import TLSClient

/// Asks xcatd for this node's litefile and litetree over TLS, as xCAT's `rc.statelite` does with `openssl s_client`:
/// one connection per command, `<xcatrequest><command>litefile</command></xcatrequest>`, the reply read up to
/// `<serverdone>` (bounded by `limits`), xcatd naming the node by reverse DNS of the connection's address.
///
/// Better than xCAT: xcatd's certificate is verified against the site's CA when the image holds one (or
/// `nodeinit.xcatd_ca=` names one, which then must verify); without one the session is unverified and the log and
/// the console say so loudly. A connection that fails or a reply cut short is retried `plan.attempts` times with
/// xCAT's random pause (0-49 s); what xcatd itself answers (an `<error>`, the usage text of a node it could not name)
/// and a certificate that does not verify stop at once with their reason.
public struct XcatdTables {
    public var plan: XcatdPlan
    public var address: IPAddress
    /// Where the CA files are looked for (the image as mounted); nil: only an explicit CA read from elsewhere.
    public var imageRoot: ConfinedTree?
    public var limits: XcatdReplyReader.Limits
    /// Pauses between attempts (milliseconds); the tests pass a recorder.
    public var pause: (Int64) -> Void
    public var seed: UInt64

    public init(
        plan: XcatdPlan, address: IPAddress, imageRoot: ConfinedTree?, limits: XcatdReplyReader.Limits = .init(),
        seed: UInt64, pause: @escaping (Int64) -> Void = { Pause.sleep(milliseconds: $0) }
    ) {
        self.plan = plan
        self.address = address
        self.imageRoot = imageRoot
        self.limits = limits
        self.seed = seed
        self.pause = pause
    }

    /// What xcatd gave: tables in `.xcatd` format named `xcatd HOST:PORT litefile` (errors cite `...:<entry>`).
    public struct Fetched {
        public var litefile: BootInputs.Table?
        public var litetree: BootInputs.Table?
        /// The node name xcatd used.
        public var node: String?
        /// How the session was checked, for the log (`verified against /xcatpost/_xcat/ca.pem`, `UNVERIFIED`).
        public var verification: String
    }

    /// Fetches the tables asked for (`litefile`, `litetree`).
    public func fetch(litefile: Bool, litetree: Bool, log: StateliteLog) throws(StateliteError) -> Fetched {
        let (verification, described) = try verification(log: log)
        var fetched = Fetched(verification: described)
        var random = SeededRandom(seed: seed)
        if litefile {
            let answer = try ask(XcatdProtocol.litefile, verification, random: &random, log: log)
            fetched.node = answer.node
            fetched.litefile = table(answer)
        }
        if litetree {
            let answer = try ask(XcatdProtocol.litetree, verification, random: &random, log: log)
            fetched.node = fetched.node ?? answer.node
            fetched.litetree = table(answer)
        }
        return fetched
    }

    func table(_ answer: XcatdAnswer) -> BootInputs.Table {
        BootInputs.Table(name: "xcatd \(plan.endpoint) \(answer.command)", text: answer.tableText, format: .xcatd)
    }

    /// The CA to verify with: the named one (must be readable), else the first of xCAT's places the image holds.
    func verification(log: StateliteLog) throws(StateliteError) -> (TLSSession.Verification, String) {
        let endpoint = plan.endpoint
        func read(_ path: String) throws(StateliteError) -> [UInt8] {
            guard let imageRoot else {
                throw .xcatd(endpoint: endpoint, problem: "no image to read the CA \(path) from", attempts: [])
            }
            do {
                return try imageRoot.readFile(path, limit: 1 << 20)
            } catch {
                throw .xcatd(
                    endpoint: endpoint, problem: "cannot read the CA certificate \(path) in the image: \(error)",
                    attempts: [])
            }
        }
        if let path = plan.caPath {
            let pem = try read(path)
            return (
                .certificateAuthority(caPEM: pem, caName: path, serverName: plan.serverName), "verified against \(path)"
            )
        }
        for path in XcatdPlan.caCandidates {
            guard let imageRoot, (try? imageRoot.status(path)) ?? nil != nil else { continue }
            let pem = try read(path)
            log.info("xcatd \(endpoint): verifying its certificate against the image's \(path)")
            return (
                .certificateAuthority(caPEM: pem, caName: path, serverName: plan.serverName), "verified against \(path)"
            )
        }
        log.warning(
            "xcatd \(endpoint): UNVERIFIED TLS: the image holds no xCAT CA (\(XcatdPlan.caCandidates.joined(separator: ", "))) "
                + "and nodeinit.xcatd_ca= names none, so whoever answers at \(endpoint) decides this node's litefile "
                + "and litetree (xCAT's own boot never verifies either); put the site's CA (/etc/xcat/cert/ca.pem on the "
                + "management node) in the image or name it with nodeinit.xcatd_ca=")
        return (.none, "UNVERIFIED (no CA)")
    }

    /// One command, retried while the failure is the network's (or the litefile came back empty, as xCAT retries).
    func ask(
        _ command: String, _ verification: TLSSession.Verification, random: inout SeededRandom, log: StateliteLog
    ) throws(StateliteError) -> XcatdAnswer {
        let endpoint = plan.endpoint
        var tries: [String] = []
        let attempts = max(1, plan.attempts)
        for attempt in 1...attempts {
            let problem: String
            do throws(QueryFailure) {
                let (reply, received, summary) = try query(command, verification)
                let answer: XcatdAnswer
                do {
                    answer = try XcatdAnswer.from(reply, command: command)
                } catch {
                    throw .permanent(error.description)
                }
                for warning in answer.warnings { log.warning("xcatd \(endpoint) \(command): \(warning)") }
                if command == XcatdProtocol.litefile && answer.lines.isEmpty {
                    // xcatd always adds /etc/mtab: an empty litefile is a failure, which rc.statelite retries.
                    problem = "xcatd sent no litefile entry"
                } else {
                    log.info(
                        "read the \(command) table from xcatd \(endpoint) (\(answer.lines.count) entries for node "
                            + "\(answer.node ?? "?"), \(received) bytes, \(summary))")
                    for line in answer.lines.prefix(200) { log.info("xcatd \(command) \(line.index): \(line.text)") }
                    return answer
                }
            } catch let failure {
                switch failure {
                case .permanent(let reason):
                    throw .xcatd(endpoint: endpoint, problem: "\(command): \(reason)", attempts: tries)
                case .transient(let reason):
                    problem = reason
                }
            }
            tries.append("attempt \(attempt): \(problem)")
            guard attempt < attempts else { break }
            let seconds = Int64(random.next() % UInt64(max(0, plan.maxPauseSeconds) + 1))
            log.warning(
                "xcatd \(endpoint) \(command) attempt \(attempt) of \(attempts): \(problem); trying again in \(seconds) s"
            )
            pause(seconds * 1000)
        }
        throw .xcatd(
            endpoint: endpoint, problem: "\(command): no answer after \(attempts) attempts", attempts: tries)
    }

    enum QueryFailure: Swift.Error {
        /// The network, the handshake, a reply cut short: worth another attempt.
        case transient(String)
        /// xcatd's own answer, an untrusted certificate, a reply too large or not xcatd's XML.
        case permanent(String)
    }

    /// One connection: handshake, request, the reply up to `<serverdone>`.
    func query(_ command: String, _ verification: TLSSession.Verification) throws(QueryFailure)
        -> (XcatdReply, Int, String)
    {
        let timeout = Int32(clamping: max(1, plan.timeoutSeconds) * 1000)
        let stream: TCPStream
        do {
            stream = try TCPStream.connect(
                to: SocketAddress(address, port: UInt16(clamping: plan.port)), timeoutMilliseconds: timeout)
        } catch {
            throw .transient(error.description)
        }
        let session: TLSSession
        do {
            session = try TLSSession.connect(over: stream, verification: verification, timeoutMilliseconds: timeout)
        } catch {
            switch error {
            case .untrustedServer, .badCertificateAuthority, .setup: throw .permanent(error.description)
            default: throw .transient(error.description)
            }
        }
        defer { session.close() }
        var reader = XcatdReplyReader(limits: limits)
        do {
            try session.write(XcatdProtocol.request(command))
            while !reader.isDone {
                let bytes = try session.read(maxCount: 16 << 10)
                if bytes.isEmpty { break }
                try reader.feed(bytes)
            }
        } catch let error as TLSSession.Error {
            throw .transient(error.description)
        } catch let error as XcatdProtocol.Error {
            throw .permanent(error.description)
        } catch {
            throw .transient("\(error)")
        }
        let summary = session.summary
        let how =
            "TLS \(summary.version) \(summary.cipherSuite), certificate \(summary.subject ?? "none")"
            + (summary.verified ? " verified" : " NOT verified")
        do {
            return (try reader.finish(), reader.received, how)
        } catch {
            if case .closedEarly = error { throw .transient(error.description) }
            throw .permanent(error.description)
        }
    }
}
