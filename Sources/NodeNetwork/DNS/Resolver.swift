import Logging
import NodeSys

/// A stub resolver for the init: a static binary cannot use glibc's NSS, so server names that are not IP literals
/// (`cnfs:/gpfs/state`) are resolved here, against the servers DHCP or `nameserver=` supplied.
///
/// A and AAAA queries go over UDP with retries across servers, fall back to TCP when the reply is truncated, and
/// follow CNAME chains (inside one answer, then by new queries), with bounds on every loop.
public struct Resolver: Sendable {
    public struct TransportError: Swift.Error, Hashable, Sendable, CustomStringConvertible {
        public var detail: String
        public init(detail: String) { self.detail = detail }
        public var description: String { detail }
    }

    public enum Error: Swift.Error, Hashable, Sendable, CustomStringConvertible {
        case noServers(name: String)
        case invalidName(String, DNSName.Error)
        /// NXDOMAIN, or no A/AAAA records, for every candidate name.
        case notFound(name: String, tried: [String], server: String)
        /// No server gave a usable answer; `failures` lists "server: what happened" per try.
        case serversFailed(name: String, attempts: Int, failures: [String])
        case cnameChainTooLong(name: String, limit: Int)

        public var description: String {
            switch self {
            case .noServers(let name): "resolve \(name): no dns servers are known (none from dhcp or nameserver=)"
            case .invalidName(let name, let error): "resolve \(name): \(error)"
            case .notFound(let name, let tried, let server):
                "resolve \(name): no address records (tried \(tried.joined(separator: ", ")) at \(server))"
            case .serversFailed(let name, let attempts, let failures):
                "resolve \(name): no usable answer after \(attempts) attempts (\(failures.suffix(4).joined(separator: "; ")))"
            case .cnameChainTooLong(let name, let limit): "resolve \(name): more than \(limit) cname hops"
            }
        }
    }

    public var servers: [IPAddress]
    public var searchDomains: [String]
    /// Wait per UDP try before moving to the next server.
    public var timeoutPerTry: Duration
    /// Passes over the whole server list.
    public var attempts: Int
    public var port: UInt16

    static let maximumCNAMEHops = 8

    public init(
        servers: [IPAddress], searchDomains: [String] = [], timeoutPerTry: Duration = .seconds(2), attempts: Int = 3,
        port: UInt16 = 53
    ) {
        self.servers = servers
        self.searchDomains = searchDomains
        self.timeoutPerTry = timeoutPerTry
        self.attempts = max(1, attempts)
        self.port = port
    }

    /// Addresses for `host`, IPv4 first. An IP literal is returned as is, without a query.
    public func resolve(
        host: String, transport: DNSTransport = DNSSocketTransport(), log: Logger? = nil
    ) throws(Error) -> [IPAddress] {
        if let literal = IPAddress(host) { return [literal] }
        guard !servers.isEmpty else { throw .noServers(name: host) }
        do {
            _ = try DNSName.encode(host)
        } catch {
            throw .invalidName(host, error)
        }
        var tried: [String] = []
        var lastServer = "-"
        for candidate in candidateNames(for: host) {
            tried.append(candidate)
            let v4 = try lookup(name: candidate, type: .a, transport: transport, log: log)
            lastServer = v4.server
            if v4.nameMissing { continue }
            // AAAA is a bonus for the IPv4 boot path: servers without IPv6 data sometimes refuse or drop it, which must
            // not discard the A answer. Without A records its failure is the one reported.
            let v6: LookupResult
            do {
                v6 = try lookup(name: candidate, type: .aaaa, transport: transport, log: log)
            } catch {
                guard !v4.addresses.isEmpty else { throw error }
                log?.debug(
                    "dns: aaaa query failed, keeping the a records",
                    metadata: ["name": "\(candidate)", "error": "\(error)"])
                v6 = LookupResult(addresses: [], nameMissing: false, server: v4.server)
            }
            let addresses = v4.addresses + v6.addresses
            if !addresses.isEmpty {
                log?.info(
                    "dns: resolved",
                    metadata: [
                        "name": "\(candidate)", "addresses": "\(addresses.map(\.description).joined(separator: ","))",
                    ])
                return addresses
            }
        }
        throw .notFound(name: host, tried: tried, server: lastServer)
    }

    /// The names to try, in order: a name with a trailing dot is absolute; a dotted name is tried before the search
    /// list; a single label after it (glibc's `ndots:1` behaviour).
    func candidateNames(for host: String) -> [String] {
        if host.hasSuffix(".") { return [String(host.dropLast())] }
        let searched = searchDomains.filter { !$0.isEmpty }.map {
            host + "." + ($0.hasSuffix(".") ? String($0.dropLast()) : $0)
        }
        return host.contains(".") ? [host] + searched : searched + [host]
    }

    struct LookupResult {
        var addresses: [IPAddress]
        var nameMissing: Bool
        var server: String
    }

    /// One record type for one name, following CNAMEs.
    private func lookup(name: String, type: DNSRecordType, transport: DNSTransport, log: Logger?) throws(Error)
        -> LookupResult
    {
        var current = name
        var hops = 0
        var visited: Set<String> = []
        while true {
            let (reply, server) = try query(
                name: current, type: type, originalName: name, transport: transport, log: log)
            if reply.responseCode == DNSResponseCode.nameError.rawValue {
                return LookupResult(addresses: [], nameMissing: true, server: server)
            }
            let (addresses, finalName) = Self.addresses(in: reply, for: current, type: type)
            if !addresses.isEmpty || DNSName.equal(finalName, current) {
                return LookupResult(addresses: addresses, nameMissing: false, server: server)
            }
            // The answer ended in a CNAME whose target had no records of this type in it: ask for the target.
            hops += 1
            visited.insert(current.lowercased())
            guard hops <= Self.maximumCNAMEHops, !visited.contains(finalName.lowercased()) else {
                throw .cnameChainTooLong(name: name, limit: Self.maximumCNAMEHops)
            }
            current = finalName
        }
    }

    /// Follows the CNAME chain from `name` inside the answer section and returns the records of `type` for the
    /// name the chain ends at, and that name.
    static func addresses(in reply: DNSMessage, for name: String, type: DNSRecordType) -> ([IPAddress], String) {
        var current = name
        var hops = 0
        while hops <= maximumCNAMEHops,
            let alias = reply.answers.first(where: {
                $0.type == DNSRecordType.cname.rawValue && DNSName.equal($0.name, current)
            }),
            case .cname(let target) = alias.data
        {
            current = target
            hops += 1
        }
        let addresses = reply.answers.compactMap { record -> IPAddress? in
            guard DNSName.equal(record.name, current) else { return nil }
            switch (record.data, type) {
            case (.a(let address), .a): return .v4(address)
            case (.aaaa(let address), .aaaa): return .v6(address)
            default: return nil
            }
        }
        return (addresses, current)
    }

    /// Asks each server in turn, `attempts` passes, until one answers with NOERROR or NXDOMAIN.
    private func query(
        name: String, type: DNSRecordType, originalName: String, transport: DNSTransport, log: Logger?
    ) throws(Error) -> (DNSMessage, String) {
        var failures: [String] = []
        var tries = 0
        for _ in 0..<attempts {
            for server in servers {
                tries += 1
                let address = SocketAddress(server, port: port)
                let id = UInt16.random(in: 0...UInt16.max)
                let query: [UInt8]
                do {
                    query = try DNSMessage.query(id: id, name: name, type: type)
                } catch {
                    throw .invalidName(name, error)
                }
                let accept: ([UInt8]) -> Bool = { bytes in
                    guard let reply = try? DNSMessage.decode(bytes) else {
                        // A truncated reply may be cut mid-record; its header alone is enough to switch to TCP.
                        return Self.isTruncatedResponse(bytes, id: id)
                    }
                    return Self.answers(reply, id: id, name: name, type: type)
                }
                do {
                    let deadline = ContinuousClock.now.advanced(by: timeoutPerTry)
                    guard
                        var bytes = try transport.exchangeUDP(
                            query: query, server: address, deadline: deadline, accept: accept)
                    else {
                        failures.append("\(server): timeout")
                        log?.debug(
                            "dns: timeout", metadata: ["server": "\(server)", "name": "\(name)", "try": "\(tries)"])
                        continue
                    }
                    if Self.isTruncatedResponse(bytes, id: id) {
                        log?.debug(
                            "dns: truncated reply, retrying over tcp",
                            metadata: ["server": "\(server)", "name": "\(name)"])
                        bytes = try transport.exchangeTCP(
                            query: query, server: address, deadline: ContinuousClock.now.advanced(by: timeoutPerTry * 2)
                        )
                        guard accept(bytes) else {
                            failures.append("\(server): tcp reply does not answer the query")
                            continue
                        }
                    }
                    let reply: DNSMessage
                    do {
                        reply = try DNSMessage.decode(bytes)
                    } catch {
                        failures.append("\(server): \(error)")
                        continue
                    }
                    switch DNSResponseCode(rawValue: reply.responseCode) {
                    case .noError?, .nameError?:
                        return (reply, server.description)
                    default:
                        let code =
                            DNSResponseCode(rawValue: reply.responseCode)?.description ?? "rcode \(reply.responseCode)"
                        failures.append("\(server): \(code)")
                    }
                } catch {
                    failures.append("\(server): \(error)")
                }
            }
        }
        throw .serversFailed(name: originalName, attempts: tries, failures: failures)
    }

    /// The header of a response with our id and the TC bit set.
    static func isTruncatedResponse(_ bytes: [UInt8], id: UInt16) -> Bool {
        let reader = BigEndianReader(bytes)
        guard let replyID = reader.uint16(0), let flags = reader.uint16(2) else { return false }
        return replyID == id && flags & 0x8000 != 0 && flags & 0x0200 != 0
    }

    /// A reply answers our query when it is a response with our id and our single question.
    static func answers(_ reply: DNSMessage, id: UInt16, name: String, type: DNSRecordType) -> Bool {
        guard reply.isResponse, reply.id == id, reply.questions.count == 1, let question = reply.questions.first else {
            return false
        }
        return question.type == type.rawValue && DNSName.equal(question.name, name)
    }
}
