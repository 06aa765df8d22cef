import BootConfig
import Logging
import NodeSys

/// Where DHCP datagrams go: a UDP socket bound to the interface, or a scripted fake server in tests.
public protocol DHCPTransport: AnyObject {
    /// Sends to 255.255.255.255:67 on the client's interface.
    func broadcast(_ message: [UInt8]) throws(DHCPClient.Error)
    /// One datagram, or nil when nothing arrives before `deadline`.
    func receive(deadline: ContinuousClock.Instant) throws(DHCPClient.Error) -> [UInt8]?
}

/// A DHCPv4 client for one interface: DISCOVER, OFFER, REQUEST, ACK (RFC 2131 section 3.1), with retransmission
/// on an exponential backoff until an overall deadline. A DHCPNAK restarts discovery with a new transaction id.
public struct DHCPClient: Sendable {
    public enum Error: Swift.Error, Hashable, Sendable, CustomStringConvertible {
        /// No OFFER (or no ACK after an OFFER) before the deadline.
        case noReply(interface: String, phase: String, attempts: Int, seconds: Int64)
        case transport(interface: String, detail: String)

        public var description: String {
            switch self {
            case .noReply(let interface, let phase, let attempts, let seconds):
                "dhcp on \(interface): no \(phase) after \(attempts) attempts in \(seconds) s"
            case .transport(let interface, let detail): "dhcp on \(interface): \(detail)"
            }
        }
    }

    public struct Configuration: Sendable, Hashable {
        public var interfaceName: String
        public var macAddress: MACAddress
        /// Sent as option 12 so the server can register it (and dnsmasq's `dhcp-host` can match it).
        public var hostName: String?
        /// Option 61; defaults to hardware type 1 followed by the MAC.
        public var clientIdentifier: [UInt8]?
        /// Overall time for the whole exchange.
        public var timeout: Duration
        /// First retransmission interval; it doubles up to `maximumInterval` (RFC 2131 suggests 4 s and 64 s;
        /// a booting node starts faster).
        public var initialInterval: Duration
        public var maximumInterval: Duration
        /// REQUEST transmissions before falling back to a new DISCOVER.
        public var requestAttempts: Int
        /// Seeds the retransmission jitter and the transaction ids; nil: `BootEntropy` with the MAC address, so
        /// nodes powered on together spread apart and PID 1 never waits for the kernel's random generator.
        public var randomSeed: UInt64?

        public init(
            interfaceName: String, macAddress: MACAddress, hostName: String? = nil, clientIdentifier: [UInt8]? = nil,
            timeout: Duration = .seconds(60), initialInterval: Duration = .seconds(2),
            maximumInterval: Duration = .seconds(16),
            requestAttempts: Int = 4, randomSeed: UInt64? = nil
        ) {
            self.interfaceName = interfaceName
            self.macAddress = macAddress
            self.hostName = hostName
            self.clientIdentifier = clientIdentifier
            self.timeout = timeout
            self.initialInterval = initialInterval
            self.maximumInterval = maximumInterval
            self.requestAttempts = requestAttempts
            self.randomSeed = randomSeed
        }

        /// The retransmission delays: `initialInterval` doubling to `maximumInterval`, each randomised by up to
        /// a second either way as RFC 2131 4.1 says (a quarter of the interval for short test intervals).
        public var retransmissions: RetrySchedule {
            RetrySchedule(
                initialMilliseconds: Self.milliseconds(initialInterval),
                maximumMilliseconds: Self.milliseconds(maximumInterval), jitterMilliseconds: 1_000)
        }

        static func milliseconds(_ duration: Duration) -> Int64 {
            duration.components.seconds * 1_000 + duration.components.attoseconds / 1_000_000_000_000_000
        }
    }

    /// Options asked for in option 55.
    public static let requestedParameters: [UInt8] = [
        DHCPOptionCode.subnetMask, DHCPOptionCode.router, DHCPOptionCode.domainNameServer, DHCPOptionCode.hostName,
        DHCPOptionCode.domainName, DHCPOptionCode.rootPath, DHCPOptionCode.interfaceMTU,
        DHCPOptionCode.broadcastAddress,
        DHCPOptionCode.leaseTime, DHCPOptionCode.serverIdentifier, DHCPOptionCode.renewalTime,
        DHCPOptionCode.rebindingTime, DHCPOptionCode.tftpServerName, DHCPOptionCode.bootFileName,
        DHCPOptionCode.domainSearch, DHCPOptionCode.classlessStaticRoute,
    ]

    public var configuration: Configuration

    public init(configuration: Configuration) { self.configuration = configuration }

    // MARK: Messages

    /// A DISCOVER (or, with `offer`, the REQUEST that selects it).
    public func message(
        type: DHCPMessageType, transactionID: UInt32, secondsElapsed: UInt16, selecting offer: DHCPMessage? = nil
    ) -> DHCPMessage {
        var message = DHCPMessage(operation: DHCPMessage.bootRequest, transactionID: transactionID)
        message.hardwareAddressLength = UInt8(min(configuration.macAddress.bytes.count, 16))
        message.clientHardwareAddress = configuration.macAddress.bytes
        message.secondsElapsed = secondsElapsed
        message.flags = DHCPMessage.broadcastFlag
        message.options.set(messageType: type)
        message.options.set(
            code: DHCPOptionCode.clientIdentifier,
            data: configuration.clientIdentifier ?? ([1] + configuration.macAddress.bytes))
        if let offer {
            message.options.set(code: DHCPOptionCode.requestedAddress, address: offer.yourAddress)
            if let server = offer.options.serverIdentifier {
                message.options.set(code: DHCPOptionCode.serverIdentifier, address: server)
            }
        }
        // 576 is the size every DHCP server must accept; asking for 1500 lets long root paths through unsplit.
        message.options.set(code: DHCPOptionCode.maximumMessageSize, uint16: 1500)
        if let hostName = configuration.hostName, !hostName.isEmpty {
            message.options.set(code: DHCPOptionCode.hostName, text: hostName)
        }
        message.options.set(code: DHCPOptionCode.parameterRequestList, data: Self.requestedParameters)
        return message
    }

    /// True when `reply` answers our transaction: a BOOTREPLY with our xid and our hardware address.
    public func isReply(_ reply: DHCPMessage, to transactionID: UInt32) -> Bool {
        reply.operation == DHCPMessage.bootReply && reply.transactionID == transactionID
            && reply.clientHardwareAddress == Array(configuration.macAddress.bytes.prefix(16))
    }

    // MARK: Exchange

    /// Runs the exchange until an ACK or the deadline. `transactionIDs` supplies xids (nil: drawn from the seeded
    /// source, never 0).
    public func acquire(
        transport: DHCPTransport, log: Logger, transactionIDs: (() -> UInt32)? = nil
    ) throws(Error) -> DHCPLease {
        var random = SeededRandom(
            seed: configuration.randomSeed ?? BootEntropy.seed(mixing: configuration.macAddress.bytes))
        let start = ContinuousClock.now
        let deadline = start.advanced(by: configuration.timeout)
        var transmissions = 0  // DISCOVERs and REQUESTs
        var naks = 0
        var lastPhase = "DHCPOFFER"
        let name = configuration.interfaceName
        while ContinuousClock.now < deadline {
            let xid = transactionIDs?() ?? max(1, UInt32(truncatingIfNeeded: random.next()))
            log.info("dhcp: discovering", metadata: ["interface": "\(name)", "xid": "\(hex(xid))"])
            // Selecting: the first acceptable OFFER wins.
            let offerResult = try exchange(
                transport: transport, start: start, deadline: deadline, maximumAttempts: Int.max, random: &random,
                log: log,
                build: { seconds in message(type: .discover, transactionID: xid, secondsElapsed: seconds) },
                accept: { reply in
                    reply.options.messageType == .offer && !reply.yourAddress.isUnspecified ? reply : nil
                })
            transmissions += offerResult.attempts
            guard let offer = offerResult.reply else { lastPhase = "DHCPOFFER"; break }
            log.info(
                "dhcp: offer",
                metadata: [
                    "interface": "\(name)", "address": "\(offer.yourAddress)",
                    "server": "\(offer.options.serverIdentifier?.description ?? "unknown")",
                ])
            // Requesting: an ACK or a NAK from the server we selected.
            let selectedServer = offer.options.serverIdentifier
            let ackResult = try exchange(
                transport: transport, start: start, deadline: deadline, maximumAttempts: configuration.requestAttempts,
                random: &random, log: log,
                build: { seconds in
                    message(type: .request, transactionID: xid, secondsElapsed: seconds, selecting: offer)
                },
                accept: { reply in
                    guard let type = reply.options.messageType, type == .ack || type == .nak else { return nil }
                    if let selectedServer, let from = reply.options.serverIdentifier, from != selectedServer {
                        return nil
                    }
                    return reply
                })
            transmissions += ackResult.attempts
            guard let answer = ackResult.reply else {
                if naks == 0 { lastPhase = "DHCPACK" }
                log.warning(
                    "dhcp: no answer to request, discovering again",
                    metadata: ["interface": "\(name)", "attempts": "\(ackResult.attempts)"])
                continue
            }
            if answer.options.messageType == .nak {
                naks += 1
                lastPhase = "DHCPACK (the server answered DHCPNAK \(naks) times)"
                // Restarting at once would flood a server that keeps refusing; pause like a first retransmission.
                pause(until: deadline, &random)
                log.warning(
                    "dhcp: server refused the request (DHCPNAK), discovering again",
                    metadata: ["interface": "\(name)", "message": "\(answer.options.serverMessage ?? "")"])
                continue
            }
            guard let lease = DHCPLease(acknowledgement: answer) else {
                lastPhase = "usable DHCPACK (it carried no address)"
                pause(until: deadline, &random)
                log.warning(
                    "dhcp: acknowledgement without an address, discovering again", metadata: ["interface": "\(name)"])
                continue
            }
            log.info(
                "dhcp: lease",
                metadata: [
                    "interface": "\(name)", "address": "\(lease.address)/\(lease.prefixLength)",
                    "router": "\(lease.routers.first?.description ?? "none")",
                    "dns": "\(lease.dnsServers.map(\.description).joined(separator: ","))",
                    "root-path": "\(lease.rootPath ?? "")", "next-server": "\(lease.nextServer?.description ?? "")",
                ])
            return lease
        }
        throw .noReply(
            interface: name, phase: lastPhase, attempts: transmissions,
            seconds: start.duration(to: ContinuousClock.now).components.seconds)
    }

    /// As long as a first retransmission would wait (randomised the same way), or until the deadline.
    private func pause(until deadline: ContinuousClock.Instant, _ random: inout SeededRandom) {
        var delays = configuration.retransmissions.delays(seed: random.next())
        let first = Duration.milliseconds(delays.next() ?? 0)
        Pause.sleep(milliseconds: Waiting.milliseconds(of: min(first, ContinuousClock.now.duration(to: deadline))))
    }

    /// Sends `build(seconds)` and waits for a reply `accept` takes, retransmitting on the backoff schedule until
    /// `maximumAttempts` or `deadline`.
    private func exchange(
        transport: DHCPTransport, start: ContinuousClock.Instant, deadline: ContinuousClock.Instant,
        maximumAttempts: Int, random: inout SeededRandom,
        log: Logger, build: (UInt16) -> DHCPMessage, accept: (DHCPMessage) -> DHCPMessage?
    ) throws(Error) -> (reply: DHCPMessage?, attempts: Int) {
        var delays = configuration.retransmissions.delays(seed: random.next())
        var attempts = 0
        while attempts < maximumAttempts && ContinuousClock.now < deadline {
            attempts += 1
            let elapsed = start.duration(to: ContinuousClock.now).components.seconds
            let outgoing = build(UInt16(clamping: elapsed))
            try transport.broadcast(outgoing.encoded())
            log.debug(
                "dhcp: sent",
                metadata: [
                    "type": "\(outgoing.options.messageType?.description ?? "?")", "attempt": "\(attempts)",
                    "interface": "\(configuration.interfaceName)",
                ])
            let wait = Duration.milliseconds(delays.next() ?? configuration.retransmissions.maximumMilliseconds)
            let waitUntil = min(ContinuousClock.now.advanced(by: wait), deadline)
            while let datagram = try transport.receive(deadline: waitUntil) {
                let reply: DHCPMessage
                do {
                    reply = try DHCPMessage.decode(datagram)
                } catch {
                    log.debug("dhcp: ignoring undecodable datagram", metadata: ["error": "\(error)"])
                    continue
                }
                guard isReply(reply, to: outgoing.transactionID) else { continue }
                if let accepted = accept(reply) { return (accepted, attempts) }
            }
        }
        return (nil, attempts)
    }
}

func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}
