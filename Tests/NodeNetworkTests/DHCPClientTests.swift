import Logging
import NodeSys
import Testing

@testable import NodeNetwork

/// A scripted DHCP server: answers each client message through `respond`, recording what the client sent.
final class FakeDHCPServer: DHCPTransport {
    var received: [DHCPMessage] = []
    var pending: [[UInt8]] = []
    let respond: (DHCPMessage, Int) -> [[UInt8]]

    init(respond: @escaping (DHCPMessage, Int) -> [[UInt8]]) { self.respond = respond }

    func broadcast(_ message: [UInt8]) throws(DHCPClient.Error) {
        guard let decoded = try? DHCPMessage.decode(message) else {
            throw .transport(interface: "fake", detail: "client sent an undecodable message")
        }
        received.append(decoded)
        pending.append(contentsOf: respond(decoded, received.count))
    }

    /// Like a socket: with nothing pending, waits until the deadline and reports silence.
    func receive(deadline: ContinuousClock.Instant) throws(DHCPClient.Error) -> [UInt8]? {
        if pending.isEmpty {
            Pause.sleep(milliseconds: Waiting.milliseconds(until: deadline))
            return nil
        }
        return pending.removeFirst()
    }

    /// A reply to `request` of `type` offering 10.99.0.42 from server 10.99.0.1.
    static func reply(to request: DHCPMessage, type: DHCPMessageType, server: IPv4Address = IPv4Address(10, 99, 0, 1))
        -> [UInt8]
    {
        var reply = DHCPMessage(operation: DHCPMessage.bootReply, transactionID: request.transactionID)
        reply.clientHardwareAddress = request.clientHardwareAddress
        reply.yourAddress = type == .nak ? .any : IPv4Address(10, 99, 0, 42)
        reply.serverAddress = IPv4Address(10, 99, 0, 9)
        reply.options.set(messageType: type)
        reply.options.set(code: DHCPOptionCode.serverIdentifier, address: server)
        reply.options.set(code: DHCPOptionCode.subnetMask, address: IPv4Address(255, 255, 0, 0))
        reply.options.set(code: DHCPOptionCode.router, address: IPv4Address(10, 99, 0, 1))
        reply.options.set(code: DHCPOptionCode.rootPath, text: "nfs4:10.99.0.9:/srv/root")
        return reply.encoded()
    }
}

@Suite struct DHCPClientTests {
    let log = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    func client(timeout: Duration = .seconds(5)) -> DHCPClient {
        DHCPClient(
            configuration: .init(
                interfaceName: "nwtest0", macAddress: MACAddress("02:00:00:00:00:2a")!, hostName: "node42",
                timeout: timeout,
                initialInterval: .milliseconds(5), maximumInterval: .milliseconds(20)))
    }

    @Test func discoverOfferRequestAck() throws {
        let server = FakeDHCPServer { message, _ in
            switch message.options.messageType {
            case .discover?: [FakeDHCPServer.reply(to: message, type: .offer)]
            case .request?: [FakeDHCPServer.reply(to: message, type: .ack)]
            default: []
            }
        }
        let lease = try client().acquire(transport: server, log: log, transactionIDs: { 0xABCD })
        #expect(lease.address.description == "10.99.0.42")
        #expect(lease.prefixLength == 16)
        #expect(lease.routers.map(\.description) == ["10.99.0.1"])
        #expect(lease.rootPath == "nfs4:10.99.0.9:/srv/root")
        #expect(lease.nextServer?.description == "10.99.0.9")
        #expect(server.received.map { $0.options.messageType } == [.discover, .request])
        #expect(server.received.allSatisfy { $0.transactionID == 0xABCD && $0.options.hostName == "node42" })
        #expect(server.received.last?.options.requestedAddress?.description == "10.99.0.42")
    }

    @Test func lostDiscoversAreRetransmitted() throws {
        let server = FakeDHCPServer { message, count in
            switch message.options.messageType {
            case .discover? where count >= 3: [FakeDHCPServer.reply(to: message, type: .offer)]
            case .request?: [FakeDHCPServer.reply(to: message, type: .ack)]
            default: []
            }
        }
        _ = try client().acquire(transport: server, log: log)
        #expect(server.received.map { $0.options.messageType } == [.discover, .discover, .discover, .request])
    }

    /// Transaction ids and retransmission jitter come from the configured seed (the init's comes from
    /// `BootEntropy`, never a blocking getrandom): one seed replays, another differs.
    @Test func seededClientsReplayAndDiffer() throws {
        func transactionIDs(seed: UInt64) throws -> [UInt32] {
            let server = FakeDHCPServer { message, count in
                switch message.options.messageType {
                case .discover? where count >= 2: [FakeDHCPServer.reply(to: message, type: .offer)]
                case .request?: [FakeDHCPServer.reply(to: message, type: .ack)]
                default: []
                }
            }
            var configuration = client().configuration
            configuration.randomSeed = seed
            _ = try DHCPClient(configuration: configuration).acquire(transport: server, log: log)
            return server.received.map(\.transactionID)
        }
        let first = try transactionIDs(seed: 7)
        #expect(first.count == 3 && Set(first).count == 1 && first[0] != 0)
        #expect(try transactionIDs(seed: 7) == first)
        #expect(try transactionIDs(seed: 8) != first)
        // A client without a seed draws one from BootEntropy and still gets a lease.
        #expect(try transactionIDs(seed: BootEntropy.seed(mixing: [2, 0, 0, 0, 0, 0x2a])).count == 3)
    }

    @Test func repliesForOtherTransactionsOrClientsAreIgnored() throws {
        let server = FakeDHCPServer { message, _ in
            guard message.options.messageType == .discover else {
                return [FakeDHCPServer.reply(to: message, type: .ack)]
            }
            var otherXID = message
            otherXID.transactionID &+= 1
            var otherClient = message
            otherClient.clientHardwareAddress = [2, 0, 0, 0, 0, 0x2b]
            return [
                FakeDHCPServer.reply(to: otherXID, type: .offer), FakeDHCPServer.reply(to: otherClient, type: .offer),
                [1, 2, 3], FakeDHCPServer.reply(to: message, type: .offer),
            ]
        }
        let lease = try client().acquire(transport: server, log: log)
        #expect(lease.address.description == "10.99.0.42")
        #expect(server.received.count == 2)
    }

    @Test func nakRestartsDiscoveryWithANewTransaction() throws {
        var naks = 0
        let server = FakeDHCPServer { message, _ in
            switch message.options.messageType {
            case .discover?: return [FakeDHCPServer.reply(to: message, type: .offer)]
            case .request?:
                naks += 1
                return [FakeDHCPServer.reply(to: message, type: naks == 1 ? .nak : .ack)]
            default: return []
            }
        }
        var xids: [UInt32] = [1, 2]
        _ = try client().acquire(transport: server, log: log, transactionIDs: { xids.removeFirst() })
        #expect(server.received.map { $0.options.messageType } == [.discover, .request, .discover, .request])
        #expect(server.received.map(\.transactionID) == [1, 1, 2, 2])
    }

    @Test func serverThatAlwaysNaksIsNamedInTheError() {
        let server = FakeDHCPServer { message, _ in
            switch message.options.messageType {
            case .discover?: [FakeDHCPServer.reply(to: message, type: .offer)]
            case .request?: [FakeDHCPServer.reply(to: message, type: .nak)]
            default: []
            }
        }
        #expect {
            _ = try client(timeout: .milliseconds(100)).acquire(transport: server, log: log)
        } throws: { error in
            "\(error)".contains("no DHCPACK (the server answered DHCPNAK ")
        }
        // Paused between rounds, not a flood: each pause is 5 ms moved by at most 1 ms (a quarter), so 100 ms hold
        // at most 25 DISCOVER/REQUEST rounds; without pauses it would be thousands. (The bound was < 40 when the
        // jitter was sub-millisecond and rounded up, averaging 5.5 ms; whole milliseconds average 5, 40 messages.)
        #expect(server.received.count <= 52)
    }

    @Test func ackFromAnotherServerIsIgnored() throws {
        let server = FakeDHCPServer { message, count in
            switch message.options.messageType {
            case .discover?: return [FakeDHCPServer.reply(to: message, type: .offer)]
            case .request?:
                return [
                    FakeDHCPServer.reply(to: message, type: .ack, server: IPv4Address(10, 99, 0, 250)),
                    FakeDHCPServer.reply(to: message, type: .ack),
                ]
            default: return []
            }
        }
        let lease = try client().acquire(transport: server, log: log)
        #expect(lease.serverIdentifier?.description == "10.99.0.1")
    }

    @Test func silenceEndsWithAnErrorNamingInterfaceAndAttempts() {
        let server = FakeDHCPServer { _, _ in [] }
        #expect {
            _ = try client(timeout: .milliseconds(120)).acquire(transport: server, log: log)
        } throws: { error in
            guard let error = error as? DHCPClient.Error,
                case .noReply(let interface, let phase, let attempts, _) = error
            else {
                return false
            }
            return interface == "nwtest0" && phase == "DHCPOFFER" && attempts >= 3
                && error.description.hasPrefix("dhcp on nwtest0: no DHCPOFFER after")
        }
        // Backoff: 5, 10, 20, 20... ms within 120 ms is far fewer sends than a busy loop would make.
        #expect(server.received.count >= 3 && server.received.count < 12)
    }
}
