import BootConfig
import NodeSys

/// `mountRoot`: the NFS root, read-only, from the plan's server (else the `ip=` peer, DHCP next-server or server
/// identifier), resolved by DNS when it is a name, each planned version tried until one mounts or `rd.retry` ends.
struct RootMountStep: BootStepExecutor {
    /// The NFS client module of a version: nfsv3 for 3 (and 2), nfsv4 for 4.x.
    static func module(forVersion version: String) -> ModuleName {
        version == "3" || version == "2" ? "nfsv3" : "nfsv4"
    }

    func run(_ context: inout BootContext, _ services: BootServices) throws(BootFailure) {
        let plan = context.plan
        let logger = services.logger
        guard let location = RootLocation(plan: plan.root, lease: context.lease) else {
            throw BootFailure(
                phase: .nfsRoot, action: "finding the NFS server",
                inputs: [.init("root", plan.root.syntax), .init("path", plan.root.path)],
                error: "no server in the root parameter, no ip= peer, no DHCP next-server or server identifier")
        }
        let address: IPAddress
        if let literal = IPAddress(location.server) {
            address = literal
        } else {
            let nameservers = context.lease?.nameservers ?? []
            let found = try services.network.resolve(
                host: location.server, nameservers: nameservers, searchDomains: context.lease?.searchDomains ?? [],
                logger: logger)
            guard let first = found.first else {
                throw BootFailure(
                    phase: .nfsRoot, action: "resolving the NFS server name",
                    inputs: [
                        .init("server", location.server),
                        .init("nameservers", nameservers.map(\.description).joined(separator: ",")),
                    ],
                    error: "no address for \(location.server)")
            }
            logger.info("resolved \(location.server) to \(first)")
            address = first
        }
        context.rootServer = address
        do {
            try services.kernel.makeDirectory(plan.root.mountPoint, mode: 0o755)
        } catch {
            throw BootFailure(phase: .nfsRoot, action: "creating \(plan.root.mountPoint)", error: "\(error)")
        }
        let mount = NFSRootMount(
            attempts: plan.root.attempts, server: location.server, address: address, path: location.path,
            target: plan.root.mountPoint)
        // Seeded without waiting for the kernel's random generator: the MAC address and name differ per node.
        let nodeBytes = (context.lease?.boot.macAddress?.bytes ?? []) + Array((context.nodeName ?? "").utf8)
        _ = try mount.mountWithRetry(
            retrySeconds: plan.debug.retrySeconds, kernel: services.kernel, logger: logger,
            seed: BootEntropy.seed(mixing: nodeBytes)
        ) { attempt in
            let module = Self.module(forVersion: attempt.version)
            load([module], what: "modules for NFS \(attempt.version)", quietWhenNothing: true, &context, services)
        }
        if let kibibytes = plan.root.readaheadKiB {
            // A slower boot, not a broken one: the root works with the kernel's readahead.
            do {
                let previous = try services.kernel.setReadahead(kibibytes, ofMountAt: plan.root.mountPoint)
                logger.info("NFS root readahead \(kibibytes) KiB (the kernel's: \(previous) KiB)")
            } catch {
                logger.warning("NFS root readahead left as the kernel set it: \(error)")
            }
        }
    }
}
