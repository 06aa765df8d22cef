internal import CMbedTLS
import NodeSys

/// A TLS 1.2 client session over a connected `TCPStream`, through mbedtls (Debian's libmbedtls 2.28, linked
/// statically into the init). The only module that touches mbedtls.
///
/// The records travel through `TCPStream.send`/`receive` (NodeSys), so every wait is bounded by `timeout` and a
/// peer that vanishes is an error, never a hang. No client certificate is sent (xcatd asks for none from nodes).
public final class TLSSession {
    /// How the server's certificate is checked.
    public enum Verification: Sendable, Equatable {
        /// The chain must lead to one of the PEM certificates in `caPEM`; when `serverName` is given, the
        /// certificate must also name it (subjectAltName DNS or CN). A failure ends the handshake.
        case certificateAuthority(caPEM: [UInt8], caName: String, serverName: String?)
        /// Nothing is checked (what xCAT's `openssl s_client` does): encrypted, not authenticated.
        case none
    }

    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        /// mbedtls could not be set up (the random generator, the configuration).
        case setup(step: String, code: Int32, message: String)
        /// The CA file holds no certificate mbedtls could parse.
        case badCertificateAuthority(name: String, code: Int32, message: String)
        /// The handshake failed; `transport` is the socket error underneath, when there was one.
        case handshake(peer: String, code: Int32, message: String, transport: String?)
        /// The server's certificate did not verify against the CA (`reasons` as mbedtls words them).
        case untrustedServer(peer: String, caName: String, reasons: [String], subject: String?)
        case send(peer: String, code: Int32, message: String, transport: String?)
        case receive(peer: String, code: Int32, message: String, transport: String?)

        public var description: String {
            switch self {
            case .setup(let step, let code, let message):
                return "cannot set up TLS (\(step)): \(message) (mbedtls -0x\(hex(code)))"
            case .badCertificateAuthority(let name, let code, let message):
                return "the CA certificate \(name) cannot be read: \(message) (mbedtls -0x\(hex(code)))"
            case .handshake(let peer, let code, let message, let transport):
                return "the TLS handshake with \(peer) failed: \(message) (mbedtls -0x\(hex(code)))"
                    + (transport.map { "; \($0)" } ?? "")
            case .untrustedServer(let peer, let caName, let reasons, let subject):
                return "\(peer)'s certificate\(subject.map { " (\($0))" } ?? "") does not verify against \(caName): "
                    + reasons.joined(separator: "; ")
            case .send(let peer, let code, let message, let transport):
                return "cannot send to \(peer) over TLS: \(message) (mbedtls -0x\(hex(code)))"
                    + (transport.map { "; \($0)" } ?? "")
            case .receive(let peer, let code, let message, let transport):
                return "cannot receive from \(peer) over TLS: \(message) (mbedtls -0x\(hex(code)))"
                    + (transport.map { "; \($0)" } ?? "")
            }
        }
    }

    /// What the handshake agreed on and who the server said it was.
    public struct Summary: Sendable, Equatable {
        public var version: String
        public var cipherSuite: String
        /// The server certificate's subject and issuer (`CN=...`), as mbedtls prints them.
        public var subject: String?
        public var issuer: String?
        /// True when the chain was checked against a CA (and the name, when one was asked for).
        public var verified: Bool
    }

    /// The mbedtls version linked in (`2.28.3`).
    public static var libraryVersion: String {
        var buffer = [CChar](repeating: 0, count: 18)
        buffer.withUnsafeMutableBufferPointer { mbedtls_version_get_string($0.baseAddress) }
        return string(from: buffer)
    }

    private let transport: Transport
    private let ssl: UnsafeMutablePointer<mbedtls_ssl_context>
    private let config: UnsafeMutablePointer<mbedtls_ssl_config>
    private let chain: UnsafeMutablePointer<mbedtls_x509_crt>
    private let entropy: UnsafeMutablePointer<mbedtls_entropy_context>
    private let drbg: UnsafeMutablePointer<mbedtls_ctr_drbg_context>
    public private(set) var summary: Summary
    private var closed = false

    private init(transport: Transport) {
        self.transport = transport
        ssl = .allocate(capacity: 1)
        config = .allocate(capacity: 1)
        chain = .allocate(capacity: 1)
        entropy = .allocate(capacity: 1)
        drbg = .allocate(capacity: 1)
        mbedtls_ssl_init(ssl)
        mbedtls_ssl_config_init(config)
        mbedtls_x509_crt_init(chain)
        mbedtls_entropy_init(entropy)
        mbedtls_ctr_drbg_init(drbg)
        summary = Summary(version: "", cipherSuite: "", subject: nil, issuer: nil, verified: false)
    }

    deinit {
        mbedtls_ssl_free(ssl)
        mbedtls_ssl_config_free(config)
        mbedtls_x509_crt_free(chain)
        mbedtls_ctr_drbg_free(drbg)
        mbedtls_entropy_free(entropy)
        ssl.deallocate()
        config.deallocate()
        chain.deallocate()
        entropy.deallocate()
        drbg.deallocate()
    }

    /// Runs the client handshake over `stream` (already connected). The stream belongs to the session from here
    /// on: `close()` closes it. `timeoutMilliseconds` bounds each wait for the server.
    public static func connect(
        over stream: TCPStream, verification: Verification, timeoutMilliseconds: Int32 = 15_000
    ) throws(Error) -> TLSSession {
        let session = TLSSession(transport: Transport(stream: stream, timeoutMilliseconds: timeoutMilliseconds))
        do {
            try session.handshake(verification)
        } catch {
            session.transport.stream.close()
            session.closed = true
            throw error
        }
        return session
    }

    private func handshake(_ verification: Verification) throws(Error) {
        let personalization = Array("nodeinit xcatd".utf8)
        var code = mbedtls_ctr_drbg_seed(drbg, mbedtls_entropy_func, entropy, personalization, personalization.count)
        if code != 0 { throw .setup(step: "seeding the random generator", code: code, message: Self.message(code)) }
        code = mbedtls_ssl_config_defaults(
            config, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT)
        if code != 0 { throw .setup(step: "the client configuration", code: code, message: Self.message(code)) }
        mbedtls_ssl_conf_rng(config, mbedtls_ctr_drbg_random, drbg)
        mbedtls_ssl_conf_min_version(config, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3)
        var serverName: String? = nil
        var caName = ""
        switch verification {
        case .none:
            mbedtls_ssl_conf_authmode(config, MBEDTLS_SSL_VERIFY_NONE)
        case .certificateAuthority(let pem, let name, let expected):
            caName = name
            serverName = expected
            var terminated = pem
            terminated.append(0)  // PEM input must include its terminating NUL.
            code = terminated.withUnsafeBufferPointer { mbedtls_x509_crt_parse(chain, $0.baseAddress, $0.count) }
            // A positive result counts certificates that failed to parse while others did: keep the good ones.
            if code < 0 || chain.pointee.version == 0 {
                throw .badCertificateAuthority(
                    name: name, code: code, message: code < 0 ? Self.message(code) : "no certificate in it")
            }
            mbedtls_ssl_conf_authmode(config, MBEDTLS_SSL_VERIFY_REQUIRED)
            mbedtls_ssl_conf_ca_chain(config, chain, nil)
            // Keeps the server certificate's subject for the message when verification fails (mbedtls drops the
            // certificate with the failed handshake).
            mbedtls_ssl_conf_verify(config, recordSubject, Unmanaged.passUnretained(transport).toOpaque())
        }
        code = mbedtls_ssl_setup(ssl, config)
        if code != 0 { throw .setup(step: "the session", code: code, message: Self.message(code)) }
        if let serverName {
            code = mbedtls_ssl_set_hostname(ssl, serverName)
            if code != 0 { throw .setup(step: "the server name", code: code, message: Self.message(code)) }
        }
        let context = Unmanaged.passUnretained(transport).toOpaque()
        mbedtls_ssl_set_bio(ssl, context, transportSend, transportReceive, nil)
        let peer = transport.stream.peer.description
        while true {
            transport.lastError = nil
            code = mbedtls_ssl_handshake(ssl)
            if code == 0 { break }
            if code == MBEDTLS_ERR_SSL_WANT_READ || code == MBEDTLS_ERR_SSL_WANT_WRITE { continue }
            let flags = mbedtls_ssl_get_verify_result(ssl)
            if code == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED, flags != 0 {
                throw .untrustedServer(
                    peer: peer, caName: caName, reasons: Self.verifyReasons(flags),
                    subject: peerName(\.subject) ?? transport.subject)
            }
            throw .handshake(peer: peer, code: code, message: Self.message(code), transport: transport.lastError)
        }
        summary = Summary(
            version: Self.string(mbedtls_ssl_get_version(ssl)),
            cipherSuite: Self.string(mbedtls_ssl_get_ciphersuite(ssl)),
            subject: peerName(\.subject), issuer: peerName(\.issuer), verified: caName != "")
    }

    /// The peer certificate's subject or issuer as text, nil without a certificate.
    private func peerName(_ field: KeyPath<mbedtls_x509_crt, mbedtls_x509_name>) -> String? {
        guard let certificate = mbedtls_ssl_get_peer_cert(ssl) else { return nil }
        var buffer = [CChar](repeating: 0, count: 512)
        var name = certificate.pointee[keyPath: field]
        let written = buffer.withUnsafeMutableBufferPointer { mbedtls_x509_dn_gets($0.baseAddress, $0.count, &name) }
        return written < 0 ? nil : Self.string(from: buffer)
    }

    /// Sends every byte.
    public func write(_ bytes: [UInt8]) throws(Error) {
        var offset = 0
        while offset < bytes.count {
            transport.lastError = nil
            let code = bytes.withUnsafeBufferPointer { all -> Int32 in
                guard let base = all.baseAddress else { return 0 }
                return mbedtls_ssl_write(ssl, base + offset, all.count - offset)
            }
            if code > 0 {
                offset += Int(code)
                continue
            }
            if code == MBEDTLS_ERR_SSL_WANT_READ || code == MBEDTLS_ERR_SSL_WANT_WRITE { continue }
            throw .send(
                peer: transport.stream.peer.description, code: code, message: Self.message(code),
                transport: transport.lastError)
        }
    }

    /// Up to `maxCount` bytes of application data; an empty array when the server closed the session (with or
    /// without a close_notify: the caller's protocol says whether the data was complete).
    public func read(maxCount: Int) throws(Error) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: max(1, maxCount))
        while true {
            transport.lastError = nil
            let code = buffer.withUnsafeMutableBufferPointer { mbedtls_ssl_read(ssl, $0.baseAddress, $0.count) }
            if code > 0 {
                buffer.removeSubrange(Int(code)...)
                return buffer
            }
            if code == 0 || code == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || code == MBEDTLS_ERR_SSL_CONN_EOF {
                return []
            }
            if code == MBEDTLS_ERR_SSL_WANT_READ || code == MBEDTLS_ERR_SSL_WANT_WRITE { continue }
            // A reset after the last record is the same "closed" to the caller.
            if code == MBEDTLS_ERR_NET_CONN_RESET, transport.peerGone { return [] }
            throw .receive(
                peer: transport.stream.peer.description, code: code, message: Self.message(code),
                transport: transport.lastError)
        }
    }

    /// Sends a close_notify (best effort) and closes the socket.
    public func close() {
        guard !closed else { return }
        closed = true
        _ = mbedtls_ssl_close_notify(ssl)
        transport.stream.close()
    }

    static func message(_ code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 200)
        buffer.withUnsafeMutableBufferPointer { mbedtls_strerror(code, $0.baseAddress, $0.count) }
        return string(from: buffer)
    }

    static func verifyReasons(_ flags: UInt32) -> [String] {
        var buffer = [CChar](repeating: 0, count: 1024)
        let written = buffer.withUnsafeMutableBufferPointer {
            mbedtls_x509_crt_verify_info($0.baseAddress, $0.count, "", flags)
        }
        guard written > 0 else { return ["verification flags 0x\(String(flags, radix: 16))"] }
        return string(from: buffer).split(separator: "\n").map { String($0) }.filter { !$0.isEmpty }
    }

    static func string(from buffer: [CChar]) -> String {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func string(_ pointer: UnsafePointer<CChar>?) -> String {
        guard let pointer else { return "" }
        return String(cString: pointer)
    }
}

private func hex(_ code: Int32) -> String { String(-Int64(code), radix: 16) }

/// The socket under a session, reached from mbedtls's callbacks through an unretained pointer (the session owns
/// it). The last socket error is kept so a TLS error can say what the network did.
final class Transport {
    let stream: TCPStream
    let timeoutMilliseconds: Int32
    var lastError: String?
    var peerGone = false
    /// The server certificate's subject, seen during verification.
    var subject: String?

    init(stream: TCPStream, timeoutMilliseconds: Int32) {
        self.stream = stream
        self.timeoutMilliseconds = timeoutMilliseconds
    }
}

private func transportSend(_ context: UnsafeMutableRawPointer?, _ bytes: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    guard let context, let bytes else { return MBEDTLS_ERR_NET_SEND_FAILED }
    let transport = Unmanaged<Transport>.fromOpaque(context).takeUnretainedValue()
    let chunk = min(count, 1 << 16)
    do {
        try transport.stream.send(
            UnsafeRawBufferPointer(start: bytes, count: chunk), timeoutMilliseconds: transport.timeoutMilliseconds)
        return Int32(chunk)
    } catch {
        transport.lastError = error.description
        if error.isPeerGone {
            transport.peerGone = true
            return MBEDTLS_ERR_NET_CONN_RESET
        }
        return MBEDTLS_ERR_NET_SEND_FAILED
    }
}

private func transportReceive(_ context: UnsafeMutableRawPointer?, _ bytes: UnsafeMutablePointer<UInt8>?, _ count: Int)
    -> Int32
{
    guard let context, let bytes else { return MBEDTLS_ERR_NET_RECV_FAILED }
    let transport = Unmanaged<Transport>.fromOpaque(context).takeUnretainedValue()
    do {
        let received = try transport.stream.receive(
            into: UnsafeMutableRawBufferPointer(start: bytes, count: min(count, 1 << 16)),
            timeoutMilliseconds: transport.timeoutMilliseconds)
        return Int32(received)
    } catch {
        transport.lastError = error.description
        if case .receiveTimedOut = error { return MBEDTLS_ERR_SSL_TIMEOUT }
        if error.isPeerGone {
            transport.peerGone = true
            return MBEDTLS_ERR_NET_CONN_RESET
        }
        return MBEDTLS_ERR_NET_RECV_FAILED
    }
}

private func recordSubject(
    _ context: UnsafeMutableRawPointer?, _ certificate: UnsafeMutablePointer<mbedtls_x509_crt>?, _ depth: Int32,
    _ flags: UnsafeMutablePointer<UInt32>?
) -> Int32 {
    guard depth == 0, let context, let certificate else { return 0 }
    let transport = Unmanaged<Transport>.fromOpaque(context).takeUnretainedValue()
    var buffer = [CChar](repeating: 0, count: 512)
    let written = buffer.withUnsafeMutableBufferPointer {
        mbedtls_x509_dn_gets($0.baseAddress, $0.count, &certificate.pointee.subject)
    }
    if written > 0 { transport.subject = TLSSession.string(from: buffer) }
    return 0
}
