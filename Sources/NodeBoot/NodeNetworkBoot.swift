import BootConfig
import Logging
import NodeNetwork
import NodeSys

/// BootNetwork over NodeNetwork: turns the plan's first interface configuration into
/// NetworkConfigurator's inputs, and names into addresses with NodeNetwork's resolver.
public struct NodeNetworkBoot: BootNetwork {
    /// Bound on one DHCP exchange; the boot retries whole bring-ups until rd.retry.
    public var dhcpTimeoutSeconds: Int64 = 30
    public var carrierTimeoutSeconds: Int64 = 10

    public init() {}

    public func bringUp(plan: NetworkPlan, logger: Logger) throws(BootFailure) -> NetworkState {
        guard let config = plan.interfaces.first else {
            throw failure("the plan configures no interface", plan: plan)
        }
        if plan.interfaces.count > 1 {
            logger.warning("only the first interface configuration is applied: \(config.origin)")
        }
        var selection = InterfaceSelection(carrierTimeout: .seconds(carrierTimeoutSeconds))
        switch config.selector {
        case .name(let name): selection.interfaceName = name
        case .mac(let mac): selection.bootMAC = MACAddress(mac)
        case .anyWithCarrier: selection.bootMAC = plan.bootMAC.flatMap { MACAddress($0) }
        }
        let method: AddressingMethod
        switch config.method {
        case .dhcp, .unmanaged:
            // unmanaged: NetworkConfigurator keeps an interface the kernel already configured as it is.
            method = .dhcp(hostName: config.hostname, timeout: .seconds(dhcpTimeoutSeconds))
        case .static(let address):
            guard let ipv4 = address.address.ipv4 else {
                throw failure("static IPv6 addresses are not supported: \(address.address)", plan: plan)
            }
            method = .staticAddress(
                StaticIPv4Configuration(
                    address: ipv4, prefixLength: address.prefixLength,
                    gateway: address.gateway?.ipv4,
                    peer: address.peer?.ipv4, hostName: config.hostname,
                    mtu: config.mtu.map { UInt32(clamping: $0) }))
        case .dhcp6, .auto6, .link6, .either6:
            throw failure("IPv6 autoconfiguration (\(config.origin)) is not supported", plan: plan)
        }
        let routes = plan.routes.compactMap { route -> StaticRoute? in
            guard let destination = route.destination.address.ipv4 else { return nil }
            return StaticRoute(
                destination: destination, prefixLength: route.destination.prefixLength,
                gateway: route.gateway.ipv4, interfaceName: route.interface)
        }
        let nameservers = plan.nameservers
        let lease: NetworkLease
        do {
            lease = try NetworkConfigurator.bringUp(
                selection: selection, method: method, extraRoutes: routes, nameservers: nameservers, log: logger)
        } catch {
            throw failure("\(error)", plan: plan)
        }
        let servers = plan.ignoreDHCPNameservers ? nameservers : lease.dnsServers
        return NetworkState(
            interface: lease.interfaceName, address: lease.address.description,
            gateway: lease.gateway?.description, nameservers: servers.map(\.description),
            searchDomains: lease.searchDomains, hostname: lease.hostName ?? config.hostname,
            rootPath: lease.rootPath, nextServer: lease.nextServer?.description,
            serverIdentifier: lease.serverIdentifier?.description)
    }

    public func resolve(host: String, nameservers: [String], searchDomains: [String], logger: Logger) throws(BootFailure)
        -> [String]
    {
        let resolver = Resolver(
            servers: nameservers.compactMap { IPAddress($0) }, searchDomains: searchDomains)
        do {
            return try resolver.resolve(host: host, log: logger).map(\.description)
        } catch {
            throw BootFailure(
                phase: .nfsRoot, action: "resolving the NFS server name",
                inputs: [.init("server", host), .init("nameservers", nameservers.joined(separator: ",")), .init("search", searchDomains.joined(separator: ","))],
                error: "\(error)")
        }
    }

    private func failure(_ error: String, plan: NetworkPlan) -> BootFailure {
        BootFailure(
            phase: .network, action: "bringing up the network",
            inputs: [
                .init("interfaces", plan.interfaces.map(\.origin).joined(separator: " ")),
                .init("BOOTIF", plan.bootMAC ?? "-"),
            ],
            error: error)
    }
}
