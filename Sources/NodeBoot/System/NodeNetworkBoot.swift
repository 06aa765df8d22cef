import BootConfig
import Logging
import NodeNetwork
import NodeSys

/// BootNetwork over NodeNetwork: turns the plan's interface configurations (the boot interface first, then the
/// others) into NetworkConfigurator's inputs, and names into addresses with NodeNetwork's resolver.
public struct NodeNetworkBoot: BootNetwork {
    /// Bound on one DHCP exchange; the boot retries whole bring-ups until rd.retry.
    public var dhcpTimeoutSeconds: Int64 = 30
    public var carrierTimeoutSeconds: Int64 = 10

    public init() {}

    public func bringUp(plan: NetworkPlan, logger: Logger) throws(BootFailure) -> BootLease {
        guard let boot = plan.interfaces.first else {
            throw failure("the plan configures no interface", plan: plan)
        }
        // bond=, vlan=, bridge= first: the interfaces below may name them.
        do {
            try LinkBuilder.build(
                plan.links, renames: plan.interfaceNames.map { InterfaceRename(name: $0.name, mac: $0.mac) },
                timeout: .seconds(carrierTimeoutSeconds), log: logger)
        } catch {
            throw failure("\(error)", plan: plan)
        }
        let nameservers = plan.nameservers
        // rd.route= routes go to the interface they name; unnamed ones (and ones naming no configured interface)
        // to the boot interface.
        let otherNames = Set(plan.interfaces.dropFirst().compactMap(\.interfaceName))
        let lease: NetworkLease
        do {
            lease = try configure(
                boot, plan: plan,
                routes: plan.routes.filter { route in route.interface.map { !otherNames.contains($0) } ?? true },
                defaultRoute: true, logger: logger)
        } catch {
            throw failure("\(error)", plan: plan)
        }
        // NetworkConfigurator put the DHCP servers first, then `nameserver=` and static ones.
        var servers: [IPAddress] = []
        for server in plan.ignoreDHCPNameservers ? nameservers : lease.dnsServers where !servers.contains(server) {
            servers.append(server)
        }
        var searchDomains = lease.searchDomains
        var others: [NetworkLease] = []
        // The other ip= interfaces: configured once the boot interface is up, without a default route (the boot
        // interface's is the one the root server is reached by); one that fails is a warning, not a failed boot.
        for config in plan.interfaces.dropFirst() {
            do {
                let extra = try configure(
                    config, plan: plan,
                    routes: plan.routes.filter { $0.interface != nil && $0.interface == config.interfaceName },
                    defaultRoute: false, logger: logger)
                others.append(extra)
                if !plan.ignoreDHCPNameservers {
                    for server in extra.dnsServers where !servers.contains(server) { servers.append(server) }
                }
                for domain in extra.searchDomains where !searchDomains.contains(domain) { searchDomains.append(domain) }
            } catch {
                logger.warning("network: \(config.origin) not configured, the boot goes on without it: \(error)")
            }
        }
        if !others.isEmpty {
            logger.info(
                "network: also up: \(others.map { "\($0.interfaceName) \($0.address)/\($0.prefixLength)" }.joined(separator: ", "))"
            )
        }
        var bootLease = lease
        if bootLease.hostName == nil { bootLease.hostName = boot.hostname }
        return BootLease(boot: bootLease, others: others, nameservers: servers, searchDomains: searchDomains)
    }

    /// One interface configuration through NetworkConfigurator. The `ifname=` renames and an `ip=` MAC go with it;
    /// `rd.route=` routes go to the interface they name (unnamed ones to the boot interface).
    private func configure(
        _ config: InterfaceConfig, plan: NetworkPlan, routes: [Route], defaultRoute: Bool, logger: Logger
    ) throws -> NetworkLease {
        var selection = InterfaceSelection(
            carrierTimeout: .seconds(carrierTimeoutSeconds),
            renames: plan.interfaceNames.map { InterfaceRename(name: $0.name, mac: $0.mac) },
            assignedMAC: config.mac)
        switch config.selector {
        case .name(let name): selection.interfaceName = name
        case .mac(let mac): selection.bootMAC = mac
        case .anyWithCarrier: selection.bootMAC = plan.bootMAC
        }
        let method: AddressingMethod
        switch config.method {
        case .dhcp, .unmanaged:
            // unmanaged: NetworkConfigurator keeps an interface the kernel already configured as it is.
            method = .dhcp(hostName: config.hostname, timeout: .seconds(dhcpTimeoutSeconds))
        case .static(let address):
            guard let ipv4 = address.address.ipv4 else {
                throw UnsupportedConfiguration(text: "static IPv6 addresses are not supported: \(address.address)")
            }
            method = .staticAddress(
                StaticIPv4Configuration(
                    address: ipv4, prefixLength: address.prefixLength,
                    gateway: address.gateway?.ipv4,
                    peer: address.peer?.ipv4, hostName: config.hostname,
                    mtu: config.mtu.map { UInt32(clamping: $0) }))
        case .dhcp6, .auto6, .link6, .either6:
            throw UnsupportedConfiguration(text: "IPv6 autoconfiguration (\(config.origin)) is not supported")
        }
        // On-link routes first: a later route's gateway may only be reachable through one.
        let converted = routes.compactMap { route -> StaticRoute? in
            guard let destination = route.destination.address.ipv4 else { return nil }
            return StaticRoute(
                destination: destination, prefixLength: route.destination.prefixLength,
                gateway: route.gateway?.ipv4, interfaceName: route.interface)
        }
        let staticRoutes = converted.filter { $0.gateway == nil } + converted.filter { $0.gateway != nil }
        return try NetworkConfigurator.bringUp(
            selection: selection, method: method, extraRoutes: staticRoutes,
            nameservers: defaultRoute ? plan.nameservers : [], defaultRoute: defaultRoute, log: logger)
    }

    public func resolve(host: String, nameservers: [IPAddress], searchDomains: [String], logger: Logger)
        throws(BootFailure) -> [IPAddress]
    {
        let resolver = Resolver(servers: nameservers, searchDomains: searchDomains)
        do {
            return try resolver.resolve(host: host, log: logger)
        } catch {
            throw BootFailure(
                phase: .nfsRoot, action: "resolving \(host)",
                inputs: [
                    .init("server", host), .init("nameservers", nameservers.map(\.description).joined(separator: ",")),
                    .init("search", searchDomains.joined(separator: ",")),
                ],
                error: "\(error)")
        }
    }

    private func failure(_ error: String, plan: NetworkPlan) -> BootFailure {
        BootFailure(
            phase: .network, action: "bringing up the network",
            inputs: [
                .init("interfaces", plan.interfaces.map(\.origin).joined(separator: " ")),
                .init("links", plan.links.isEmpty ? "-" : plan.links.map(\.origin).joined(separator: " ")),
                .init("BOOTIF", plan.bootMAC?.description ?? "-"),
            ],
            error: error)
    }
}

/// A configuration the plan allows but this build cannot apply (IPv6).
struct UnsupportedConfiguration: Error, CustomStringConvertible {
    var text: String
    var description: String { text }
}

extension InterfaceConfig {
    /// The interface name when the configuration names one.
    var interfaceName: String? { if case .name(let name) = selector { name } else { nil } }
}
