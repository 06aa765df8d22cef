import Foundation
import NodeSys
import Testing

@testable import NodeNetwork

/// The resolver over real sockets against a small DNS server on 127.0.0.1 (UDP and TCP on the same port): the UDP
/// answer for A is truncated, so the A records must come back over TCP with its two-byte length framing.
@Suite struct LoopbackDNSTests {
    @Test(.timeLimit(.minutes(1))) func truncatedUDPFallsBackToTCPOverRealSockets() throws {
        let server = try LoopbackDNSServer()
        defer { server.stop() }
        let resolver = Resolver(
            servers: [IPAddress("127.0.0.1")!], timeoutPerTry: .seconds(2), attempts: 1, port: server.port)
        let addresses = try resolver.resolve(host: "big.test", transport: DNSSocketTransport())
        #expect(addresses == [IPAddress("10.99.0.7")!, IPAddress("10.99.0.8")!])
        #expect(
            server.log.value.contains("udp 1") && server.log.value.contains("tcp 1")
                && server.log.value.contains("udp 28"))
    }

    @Test(.timeLimit(.minutes(1))) func closedPortIsReportedNotWaitedOn() throws {
        // A UDP port nobody listens on: ICMP port unreachable comes back as ECONNREFUSED on the connected socket.
        let probe = try UDPSocket(family: .v4)
        try probe.bind(to: .v4(IPv4Address(127, 0, 0, 1), port: 0))
        let port = try probe.localAddress()?.port ?? 9
        probe.close()
        let resolver = Resolver(servers: [IPAddress("127.0.0.1")!], timeoutPerTry: .seconds(2), attempts: 1, port: port)
        let start = ContinuousClock.now
        #expect {
            _ = try resolver.resolve(host: "x.test", transport: DNSSocketTransport())
        } throws: { error in
            "\(error)".contains("connection refused")
        }
        #expect(start.duration(to: .now) < .seconds(1))
    }
}

final class Box<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
    func update(_ change: (inout Value) -> Void) {
        lock.lock()
        change(&stored)
        lock.unlock()
    }
}

/// Answers A over TCP (two records) but only with a truncated reply over UDP; AAAA gets an empty NOERROR.
final class LoopbackDNSServer: @unchecked Sendable {
    let udp: UDPSocket
    let tcpFD: Int32
    let port: UInt16
    let log = Box<[String]>([])
    let running = Box(true)
    private var threads: [Thread] = []

    init() throws {
        var attempt = 0
        while true {
            attempt += 1
            let udp = try UDPSocket(family: .v4)
            try udp.bind(to: .v4(IPv4Address(127, 0, 0, 1), port: 0))
            let port = try udp.localAddress()?.port ?? 0
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            if bound == 0 && listen(fd, 4) == 0 {
                self.udp = udp
                self.tcpFD = fd
                self.port = port
                break
            }
            close(fd)
            guard attempt < 20 else { throw HarnessError(message: "no port free for both udp and tcp") }
        }
        let udpThread = Thread { [self] in serveUDP() }
        let tcpThread = Thread { [self] in serveTCP() }
        threads = [udpThread, tcpThread]
        udpThread.start()
        tcpThread.start()
    }

    func stop() {
        running.update { $0 = false }
        // The serving loops wake every 100 ms to notice.
        usleep(300_000)
        udp.close()
        close(tcpFD)
    }

    static func answer(_ query: DNSMessage, truncated: Bool) -> [UInt8] {
        guard let question = query.questions.first else { return [] }
        var reply = DNSMessage(id: query.id, flags: 0x8180 | (truncated ? 0x0200 : 0), questions: [question])
        if question.type == 1 && !truncated {
            reply.answers = [
                DNSRecord(name: question.name, type: 1, ttl: 60, data: .a(IPv4Address(10, 99, 0, 7))),
                DNSRecord(name: question.name, type: 1, ttl: 60, data: .a(IPv4Address(10, 99, 0, 8))),
            ]
        }
        return (try? reply.encoded()) ?? []
    }

    private func serveUDP() {
        while running.value {
            guard let received = try? udp.receive(deadline: .now.advanced(by: .milliseconds(100))),
                let from = received.from, let query = try? DNSMessage.decode(received.bytes),
                let question = query.questions.first
            else { continue }
            log.update { $0.append("udp \(question.type)") }
            try? udp.send(Self.answer(query, truncated: question.type == 1), to: from)
        }
    }

    private func serveTCP() {
        while running.value {
            var descriptor = pollfd(fd: tcpFD, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 100) > 0 else { continue }
            let connection = accept(tcpFD, nil, nil)
            guard connection >= 0 else { continue }
            defer { close(connection) }
            var header = [UInt8](repeating: 0, count: 2)
            guard recv(connection, &header, 2, Int32(MSG_WAITALL)) == 2 else { continue }
            let length = Int(header[0]) << 8 | Int(header[1])
            var body = [UInt8](repeating: 0, count: length)
            guard recv(connection, &body, length, Int32(MSG_WAITALL)) == length,
                let query = try? DNSMessage.decode(body),
                let question = query.questions.first
            else { continue }
            log.update { $0.append("tcp \(question.type)") }
            let reply = Self.answer(query, truncated: false)
            let framed = [UInt8(reply.count >> 8), UInt8(reply.count & 0xFF)] + reply
            _ = framed.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }
    }
}
