import Logging
import NodeSys

/// Mounting the NFS root read-only at the lower-layer path, the way the kernel needs it without
/// mount.nfs: the server's address in `addr=` (the kernel does no DNS), `nolock` for v3 (NLM needs a
/// userspace statd that cannot follow switch_root), TCP for the MOUNT protocol too.
public struct NFSRootMount: Sendable {
    public var request: NFSRootRequest
    /// The server's IP address (the request's server when it is a literal, else resolved).
    public var address: String
    public var target: String

    public init(request: NFSRootRequest, address: String, target: String) {
        self.request = request
        self.address = address
        self.target = target
    }

    /// The versions tried, in order.
    public var versions: [NFSVersion] { request.version.map { [$0] } ?? NFSVersion.automatic }

    /// The mount for one version: our defaults, then the user's options over them, then what the
    /// kernel must get (read-only, the version, addr=, nolock for v3) last so nothing overrides it.
    public func mount(version: NFSVersion) -> Mount {
        var options = MountOptions()
        options.set("proto", "tcp")
        if version == .v3 { options.set("mountproto", "tcp") }
        var userOptions = request.options
        for key in ["vers", "nfsvers", "minorversion", "ro", "rw", "lock", "nolock", "addr"] { userOptions.remove(key) }
        options.merge(userOptions)
        options.set("ro")
        options.set("vers", version.rawValue)
        options.set("addr", address)
        if version == .v3 { options.set("nolock") }
        return Mount(
            source: "\(IPLiteral.sourceHost(address)):\(request.path)", target: target,
            fileSystemType: version.fileSystemType, options: options)
    }

    /// Tries every version in turn, round after round, with growing pauses (1 s doubling to 8 s)
    /// until one mounts or `retrySeconds` have passed. Each try is logged with server, path and the
    /// kernel's error, and kept for the failure report.
    public func mountWithRetry(retrySeconds: Int, logger: Logger) throws(BootFailure) -> Mount {
        let start = MonotonicInstant.now()
        let deadline = UInt64(max(0, retrySeconds)) * 1000
        var attempts: [String] = []
        var pauseMilliseconds: UInt64 = 1000
        var lastError = ""
        while true {
            for version in versions {
                let mount = mount(version: version)
                do {
                    try mount.mount()
                    logger.info("mounted NFS root \(request.server):\(request.path) (vers=\(version.rawValue), addr=\(address)) at \(target)")
                    return mount
                } catch {
                    lastError = error.description
                    let line = "[\(MonotonicInstant.now())] vers=\(version.rawValue) \(mount.source) options=\(mount.options): \(error)"
                    attempts.append(line)
                    logger.warning("NFS root try \(attempts.count): server=\(request.server) path=\(request.path) vers=\(version.rawValue): \(error)")
                }
            }
            let elapsed = MonotonicInstant.now().milliseconds(since: start)
            if elapsed >= deadline { break }
            let pause = min(pauseMilliseconds, deadline - elapsed)
            logger.info("NFS root not mounted yet; next try in \(pause) ms (rd.retry=\(retrySeconds) s, \(elapsed / 1000) s spent)")
            Reaper.reapExited()
            Pause.sleep(milliseconds: pause)
            pauseMilliseconds = min(pauseMilliseconds * 2, 8000)
        }
        throw BootFailure(
            phase: .nfsRoot, action: "mounting the NFS root",
            inputs: [
                .init("server", request.server), .init("address", address), .init("path", request.path),
                .init("version", request.version?.rawValue ?? "auto (4.2, 4.1, 3)"),
                .init("options", request.options.description.isEmpty ? "-" : request.options.description),
                .init("rd.retry", "\(retrySeconds)"),
            ],
            attempts: attempts, error: lastError)
    }
}
