import BootConfig
import NodeNetwork
import NodeSys

/// `configureNetwork`: every planned interface (the boot interface first), retried as a whole until `rd.retry`
/// since a link or DHCP server may come late; then the host name and /run/resolv.conf.
struct ConfigureNetworkStep: BootStepExecutor {
    /// Between whole bring-up attempts.
    var retryPauseMilliseconds: UInt64 = 2000

    func run(_ context: inout BootContext, _ services: BootServices) throws(BootFailure) {
        let plan = context.plan
        let logger = services.logger
        let start = MonotonicInstant.now()
        var tries = 0
        let lease: BootLease
        while true {
            tries += 1
            do {
                lease = try services.network.bringUp(plan: plan.network, logger: logger)
                break
            } catch {
                let elapsed = MonotonicInstant.now().milliseconds(since: start)
                if elapsed >= RetryBudget.milliseconds(seconds: plan.debug.retrySeconds) {
                    var failure = error
                    failure.attempts.append(
                        "\(tries) bring-up attempts over \(elapsed / 1000) s (rd.retry=\(plan.debug.retrySeconds))")
                    throw failure
                }
                logger.warning("network try \(tries) failed: \(error.error); retrying")
                services.kernel.reapExited()
                Pause.sleep(milliseconds: retryPauseMilliseconds)
            }
        }
        context.lease = lease
        if let name = context.nodeName, !name.isEmpty {
            do {
                try services.kernel.setHostName(name)
            } catch {
                logger.warning("cannot set the host name to \(name): \(error.report)")
            }
        }
        setNFSClientIdentity(plan.nfsClientIdentity, lease: lease, &context, services)
        do {
            try services.kernel.writeFile(lease.resolvConf, to: services.layout.resolvConf)
        } catch {
            logger.warning("cannot write \(services.layout.resolvConf): \(error)")
        }
        let boot = lease.boot
        logger.info(
            "network up: \(boot.interfaceName) \(boot.address)/\(boot.prefixLength) gateway \(boot.gateway?.description ?? "none") dns \(lease.nameservers.map(\.description).joined(separator: ",")) host \(lease.hostName ?? "-")"
        )
    }
}

/// The NFS client's module parameter holding the NFSv4 uniquifier (writable by root while the module is loaded; the
/// kernel reads it whenever it makes a new NFSv4 client).
let nfsUniquifierParameter = "/sys/module/nfs/parameters/nfs4_unique_id"

/// Before the first mount: nodes booting together without host names must not share one NFSv4 client owner. The
/// parameter exists once `nfs` is loaded: when it is loading in the background (a fast link and DHCP finish first),
/// this waits for it; the root mount would wait for it next anyway.
func setNFSClientIdentity(
    _ identity: NFSClientIdentity, lease: BootLease, _ context: inout BootContext, _ services: BootServices
) {
    if identity == .bootInterfaceMAC, context.plan.modules.load.contains(where: { $0.name == "nfs" }) {
        load(["nfs"], what: "modules for the NFSv4 client identity", quietWhenNothing: true, &context, services)
    }
    switch identity {
    case .commandLine(let value):
        services.logger.info("NFSv4 client identity \(value) (nfs.nfs4_unique_id= on the command line)")
    case .bootInterfaceMAC:
        guard let mac = lease.boot.macAddress else {
            services.logger.warning(
                "NFSv4 client identity not set: \(lease.boot.interfaceName) has no MAC address; give nfs.nfs4_unique_id="
            )
            return
        }
        let uniquifier = NFSClientIdentity.uniquifier(mac: mac)
        do {
            try services.kernel.writeFile(uniquifier, to: nfsUniquifierParameter)
            services.logger.info("NFSv4 client identity \(uniquifier) (MAC of \(lease.boot.interfaceName))")
        } catch {
            services.logger.warning("cannot set the NFSv4 client identity in \(nfsUniquifierParameter): \(error)")
        }
    }
}

/// rd.retry in milliseconds, clamped to 0...one year so no command-line value can overflow.
enum RetryBudget {
    static func milliseconds(seconds: Int) -> UInt64 {
        UInt64(min(max(0, seconds), 366 * 24 * 3600)) * 1000
    }
}
