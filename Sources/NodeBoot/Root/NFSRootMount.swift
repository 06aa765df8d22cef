import BootConfig
import Logging
import NodeSys
import SystemPackage

/// Mounting the NFS root read-only, the way the kernel needs it without mount.nfs: each of the
/// plan's attempts (one per NFS version, options decided by BootConfig) gets the server's address
/// as `addr=` (the kernel does no DNS), round after round, until one mounts or rd.retry runs out.
public struct NFSRootMount: Sendable {
    public var attempts: [NFSMountAttempt]
    /// The server as the plan named it (a host name or IP literal), for logs and the report.
    public var server: String
    /// The server's IP address.
    public var address: IPAddress
    public var path: String
    public var target: String

    public init(attempts: [NFSMountAttempt], server: String, address: IPAddress, path: String, target: String) {
        self.attempts = attempts
        self.server = server
        self.address = address
        self.path = path
        self.target = target
    }

    /// The mount for one attempt: the plan's exact options, `ro` when the plan says read-only, then
    /// `addr=` last so nothing earlier overrides it. IPv6 servers go in brackets in the source.
    public func mount(for attempt: NFSMountAttempt) -> Mount {
        var options = MountOptions(parsing: attempt.options)
        if attempt.readOnly { options.set("ro") }
        options.remove("addr")
        options.set("addr", address.description)
        let host = address.isIPv6 ? "[\(address)]" : address.description
        return Mount(source: "\(host):\(path)", target: target, fileSystemType: attempt.fsType, options: options)
    }

    /// Tries every attempt in turn, round after round, pausing between rounds as `schedule` says (1 s doubling
    /// to 8 s, each moved by up to half a second from `seed`, so nodes booted together do not hammer the server
    /// in lock step; the first round starts at once), until one mounts or `retrySeconds` have passed. Each try is logged with server, path and the
    /// kernel's error and kept for the failure report. `beforeAttempt` runs before each first try of
    /// a version (to load that version's module only when it is needed).
    public func mountWithRetry(
        retrySeconds: Int, kernel: any BootKernel, logger: Logger, schedule: RetrySchedule = .nfsRootMount,
        seed: UInt64, beforeAttempt: (NFSMountAttempt) -> Void = { _ in }
    ) throws(BootFailure) -> Mount {
        let start = MonotonicInstant.now()
        let deadline = RetryBudget.milliseconds(seconds: retrySeconds)
        var tries: [String] = []
        var pauses = schedule.delays(seed: seed)
        var lastError = "no mount attempts in the plan"
        var prepared: Set<String> = []
        var attempts = self.attempts
        rounds: while !attempts.isEmpty {
            for attempt in attempts {
                if !prepared.contains(attempt.version) {
                    prepared.insert(attempt.version)
                    beforeAttempt(attempt)
                }
                let mount = mount(for: attempt)
                do {
                    try kernel.mount(mount)
                } catch {
                    let reason = Self.explain(error)
                    lastError = "\(mount) failed: \(reason)"
                    tries.append("[\(MonotonicInstant.now())] vers=\(attempt.version): \(reason)")
                    logger.warning(
                        "NFS root try \(tries.count): server=\(server) path=\(path) vers=\(attempt.version) options=\(mount.options): \(reason)"
                    )
                    continue
                }
                if Self.isVersion4(attempt), let owner = kernel.rootOwner(target), Self.isUnmapped(owner) {
                    // Every file would belong to nobody: setuid programs fail, an overlay copy-up bakes the
                    // overflow id into node saves. NFSv3 always carries numbers.
                    let report = Self.unmappedOwnersReport(attempt: attempt, owner: owner)
                    try? kernel.unmount(target)
                    tries.append("[\(MonotonicInstant.now())] vers=\(attempt.version): \(report)")
                    let fallback = attempts.filter { !Self.isVersion4($0) }
                    guard !fallback.isEmpty else {
                        throw BootFailure(
                            phase: .nfsRoot, action: "mounting the NFS root",
                            inputs: [
                                .init("server", server), .init("path", path),
                                .init("versions", attempts.map(\.version).joined(separator: ",")),
                            ],
                            attempts: tries,
                            error: report
                                + "; the plan has only NFSv4 (pinned), so nodeinit stops: make the server send numbers "
                                + "(nfs-ganesha: Only_Numeric_Owners = true; in NFSV4 {}; Linux nfsd does for "
                                + "AUTH_SYS) or mount NFSv3 (root=nfs:<server>:<path>:vers=3 or nfsroot=...,vers=3)")
                    }
                    logger.warning("\(report): falling back to NFSv\(fallback.map(\.version).joined(separator: ", "))")
                    attempts = fallback
                    continue rounds  // at once: the server answered, only the version changes
                }
                logger.info(
                    "mounted NFS root \(server):\(path) (vers=\(attempt.version), addr=\(address)) at \(target)")
                return mount
            }
            let elapsed = MonotonicInstant.now().milliseconds(since: start)
            if elapsed >= deadline { break }
            let pause = min(UInt64(max(0, pauses.next() ?? schedule.maximumMilliseconds)), deadline - elapsed)
            logger.info(
                "NFS root not mounted yet; next round in \(pause) ms (rd.retry=\(retrySeconds) s, \(elapsed / 1000) s spent)"
            )
            kernel.reapExited()
            Pause.sleep(milliseconds: pause)
        }
        throw BootFailure(
            phase: .nfsRoot, action: "mounting the NFS root",
            inputs: [
                .init("server", server), .init("address", address.description), .init("path", path),
                .init("versions", attempts.map(\.version).joined(separator: ",")), .init("rd.retry", "\(retrySeconds)"),
            ],
            attempts: tries, error: lastError)
    }
}

extension NFSRootMount {
    /// The kernel's overflow id (`/proc/sys/fs/overflowuid` is 65534 for the VFS, but the NFSv4 client maps a name it
    /// cannot resolve to (u32)-2).
    static let unmappedID: UInt32 = 4_294_967_294

    static func isVersion4(_ attempt: NFSMountAttempt) -> Bool { attempt.version.hasPrefix("4") }

    static func isUnmapped(_ owner: (uid: UInt32, gid: UInt32)) -> Bool {
        owner.uid == unmappedID || owner.gid == unmappedID
    }

    static func unmappedOwnersReport(attempt: NFSMountAttempt, owner: (uid: UInt32, gid: UInt32)) -> String {
        "NFSv\(attempt.version) root is owned by \(owner.uid):\(owner.gid): the server sends owners as names "
            + "(user@domain), which an initramfs without an ID mapper cannot map"
    }

    /// The kernel's error plus what it usually means for an NFS mount.
    static func explain(_ error: Mount.Error) -> String {
        guard let errno = error.errno else { return error.reason }
        let hint: String? =
            switch errno {
            case .noSuchFileOrDirectory: "the server has no such export path"
            case .permissionDenied: "the server refused this client or path (not exported to it?)"
            case .connectionRefused: "connection refused: no NFS server listening"
            case .timedOut: "timed out: server unreachable"
            case .noRouteToHost, .networkUnreachable: "no route to the server"
            case .protocolNotSupported: "the server does not speak this NFS version"
            case .operationNotSupportedByDevice: "the kernel lacks this NFS file system type (module not loaded?)"
            default: nil
            }
        return hint.map { "\(error.reason): \($0)" } ?? error.reason
    }
}

/// Where the root comes from once the network is up: the plan's server, else the static ip= peer,
/// else DHCP next-server, else the DHCP server identifier (dracut's order); `%s` in the path becomes
/// the host name, or the node's IP address when there is none.
public struct RootLocation: Sendable, Equatable {
    public init(server: String, path: String) {
        self.server = server
        self.path = path
    }

    public var server: String
    public var path: String

    /// Nil when neither the plan nor the lease names a server.
    public init?(plan: RootPlan, lease: BootLease?) {
        guard let server = plan.server ?? (lease?.boot.nextServer ?? lease?.boot.serverIdentifier)?.description else {
            return nil
        }
        self.server = server
        var path = plan.path
        if plan.hostnameSubstitution {
            let name = lease?.hostName ?? lease?.boot.address.description ?? "%s"
            path = Self.replacingFirst("%s", in: path, with: name)
        }
        self.path = path
    }

    static func replacingFirst(_ marker: String, in text: String, with replacement: String) -> String {
        var index = text.startIndex
        while index < text.endIndex {
            if text[index...].hasPrefix(marker) {
                return String(text[..<index]) + replacement + String(text[text.index(index, offsetBy: marker.count)...])
            }
            index = text.index(after: index)
        }
        return text
    }
}
