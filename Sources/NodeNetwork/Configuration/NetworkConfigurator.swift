import Logging
import NodeSys

/// Brings the boot interface up and configures IPv4 on it over rtnetlink: chooses the interface, sets it up, waits
/// for carrier, then runs DHCP or applies the static setup, and adds the routes.
public enum NetworkConfigurator {
    public enum Error: Swift.Error, Sendable, CustomStringConvertible {
        case noInterface(selection: String, waitedSeconds: Int64, links: [String])
        case netlink(step: String, interface: String, RouteNetlink.Error)
        case dhcp(DHCPClient.Error)
        case invalidStatic(interface: String, detail: String)

        public var description: String {
            switch self {
            case .noInterface(let selection, let waited, let links):
                "network: no \(selection) after \(waited) s (links: \(links.isEmpty ? "none" : links.joined(separator: ", ")))"
            case .netlink(let step, let interface, let error): "network: \(step) on \(interface): \(error)"
            case .dhcp(let error): "network: \(error)"
            case .invalidStatic(let interface, let detail): "network: static configuration for \(interface): \(detail)"
            }
        }
    }

    /// Configures one interface and returns what it got. `extraRoutes` are `rd.route=` routes; `nameservers`
    /// (`nameserver=`) are appended after the servers DHCP or the static setup supplied.
    ///
    /// When the chosen interface already carries a global IPv4 address (the kernel's own `ip=` autoconfiguration),
    /// nothing is changed and the existing address and default gateway are reported. `defaultRoute` false: a
    /// secondary interface, whose gateway (from DHCP or `ip=`) is reported but not made the default route.
    public static func bringUp(
        selection: InterfaceSelection, method: AddressingMethod, extraRoutes: [StaticRoute] = [],
        nameservers: [IPAddress] = [], defaultRoute: Bool = true, log: Logger
    ) throws(Error) -> NetworkLease {
        let netlink: RouteNetlink
        do {
            netlink = try RouteNetlink()
        } catch {
            throw .netlink(step: "open rtnetlink", interface: "-", error)
        }
        bringUpLoopback(netlink: netlink, log: log)
        var link = try chooseLink(netlink: netlink, selection: selection, log: log)

        if let existing = try existingConfiguration(netlink: netlink, link: link) {
            log.info(
                "network: interface already configured, leaving it as is",
                metadata: ["interface": "\(link.name)", "address": "\(existing.address)/\(existing.prefixLength)"])
            var lease = existing
            lease.dnsServers = unique(lease.dnsServers + nameservers)
            return lease
        }

        var lease: NetworkLease
        switch method {
        case .dhcp(let hostName, let timeout):
            (link, lease) = try runDHCP(
                candidates: [link] + otherLinksWithCarrier(than: link, netlink: netlink, selection: selection),
                hostName: hostName,
                timeout: timeout, log: log)
        case .staticAddress(let config):
            guard (1...32).contains(config.prefixLength) else {
                throw .invalidStatic(interface: link.name, detail: "prefix length \(config.prefixLength) is not 1...32")
            }
            lease = NetworkLease(
                source: .staticConfiguration, interfaceName: link.name, interfaceIndex: link.index,
                macAddress: link.macAddress, address: config.address, prefixLength: config.prefixLength,
                gateway: config.gateway, dnsServers: config.dnsServers, hostName: config.hostName,
                nextServer: config.peer,
                mtu: config.mtu)
        }
        var addressAdded = false
        do throws(Error) {
            try apply(
                lease: &lease, link: link, netlink: netlink, defaultRoute: defaultRoute, addressAdded: &addressAdded,
                log: log)
            for route in extraRoutes where route.interfaceName == nil || route.interfaceName == link.name {
                do {
                    try netlink.addRoute(
                        destination: route.destination, prefixLength: route.prefixLength, gateway: route.gateway,
                        index: link.index)
                    log.info("network: route added", metadata: ["route": "\(route)", "interface": "\(link.name)"])
                } catch {
                    throw Error.netlink(step: "add route \(route)", interface: link.name, error)
                }
            }
        } catch {
            // Leave no half-configured interface: the boot retries bring-up, and a retry must not mistake our own
            // address for one the kernel configured (and skip DHCP's root path, DNS and routes).
            do {
                if addressAdded {
                    try netlink.deleteAddress(
                        index: link.index, address: lease.address, prefixLength: lease.prefixLength)
                }
            } catch let cleanup {
                log.warning("network: could not remove the address after a failure", metadata: ["error": "\(cleanup)"])
            }
            throw error
        }
        lease.dnsServers = unique(lease.dnsServers + nameservers)
        return lease
    }

    // MARK: Steps

    private static func bringUpLoopback(netlink: RouteNetlink, log: Logger) {
        do {
            for link in try netlink.links() where link.isLoopback && !link.isUp {
                try netlink.setLinkUp(index: link.index)
                log.debug("network: loopback up", metadata: ["interface": "\(link.name)"])
            }
        } catch {
            // Not fatal: the boot interface matters, loopback is a convenience for the booted system.
            log.warning("network: could not bring loopback up", metadata: ["error": "\(error)"])
        }
    }

    /// Finds the link, sets it up and waits (bounded) for carrier. Without a MAC or name every non-loopback link is
    /// set up so that carrier can be detected on each.
    private static func chooseLink(netlink: RouteNetlink, selection: InterfaceSelection, log: Logger) throws(Error)
        -> NetworkLink
    {
        let start = ContinuousClock.now
        let deadline = start.advanced(by: selection.carrierTimeout)
        var raisedUp = Set<Int32>()
        var links: [NetworkLink] = []
        var chosen: NetworkLink?
        var macAssigned = false
        var phyWaitStarts: [Int32: ContinuousClock.Instant] = [:]
        while true {
            do {
                links = try netlink.links()
                if try applyRenames(selection.renames, links: links, netlink: netlink, log: log) {
                    links = try netlink.links()
                }
            } catch {
                throw .netlink(step: "list and rename links", interface: "-", error)
            }
            if chosen == nil, case .chosen(let link) = InterfaceSelector.choose(from: links, selection: selection) {
                chosen = link
                log.info(
                    "network: interface chosen", metadata: ["interface": "\(link.name)", "selection": "\(selection)"])
            }
            if let link = chosen, let mac = selection.assignedMAC, !macAssigned {
                macAssigned = true
                if link.macAddress != mac {
                    do {
                        if link.isUp { try netlink.setLinkDown(index: link.index) }
                        try netlink.setMACAddress(index: link.index, mac: mac)
                        raisedUp.remove(link.index)
                        links = try netlink.links()
                    } catch {
                        throw .netlink(step: "set mac \(mac)", interface: link.name, error)
                    }
                    log.info("network: mac address set", metadata: ["interface": "\(link.name)", "mac": "\(mac)"])
                }
            }
            // Set up what we may use: the chosen link, or every candidate while looking for carrier.
            let toRaise =
                chosen.map { chosen in links.filter { $0.index == chosen.index } }
                ?? (selection.bootMAC == nil && selection.interfaceName == nil
                    ? links.filter { !$0.isLoopback } : [])
            var waitingForAPHY = false
            for link in toRaise where !link.isUp && !raisedUp.contains(link.index) {
                let waitStart = phyWaitStarts[link.index] ?? ContinuousClock.now
                phyWaitStarts[link.index] = waitStart
                let driver = NetworkDevice.driverName(of: link.name)
                if PHYWait.setUpLater(
                    driver: driver, phy: driver == nil ? nil : try? NetworkDevice.phyStatus(of: link.name).get(),
                    waited: ContinuousClock.now - waitStart)
                {
                    waitingForAPHY = true
                    continue
                }
                if ContinuousClock.now - waitStart > .milliseconds(10) {
                    log.info(
                        "network: link set up once its PHY negotiated",
                        metadata: ["interface": "\(link.name)", "after-ms": "\(elapsedMilliseconds(since: waitStart))"])
                }
                do {
                    try netlink.setLinkUp(index: link.index)
                    raisedUp.insert(link.index)
                    log.debug("network: link up", metadata: ["interface": "\(link.name)"])
                } catch {
                    throw .netlink(step: "set link up", interface: link.name, error)
                }
                addKernelLinkLocalEarly(link, netlink: netlink, log: log)
            }
            if let current = chosen.flatMap({ chosen in links.first(where: { $0.index == chosen.index }) }),
                current.hasCarrier
            {
                log.info(
                    "network: carrier",
                    metadata: ["interface": "\(current.name)", "after-ms": "\(elapsedMilliseconds(since: start))"])
                return current
            }
            if ContinuousClock.now >= deadline { break }
            Pause.sleep(milliseconds: waitingForAPHY ? 20 : 100)
        }
        if let chosen {
            // Some drivers never report carrier; trying DHCP costs only its own timeout.
            log.warning(
                "network: no carrier within the bound, trying anyway",
                metadata: ["interface": "\(chosen.name)", "seconds": "\(selection.carrierTimeout.components.seconds)"])
            return chosen
        }
        if selection.bootMAC == nil, selection.interfaceName == nil, let first = links.first(where: { !$0.isLoopback })
        {
            log.warning("network: no link has carrier, trying the first one", metadata: ["interface": "\(first.name)"])
            return first
        }
        throw .noInterface(
            selection: selection.description, waitedSeconds: selection.carrierTimeout.components.seconds,
            links: links.map { "\($0.name) \($0.macAddress?.description ?? "-")" })
    }

    /// Adds, as soon as the link is set up, the IPv6 link-local address the kernel would add itself when carrier comes.
    /// Adding an address joins its solicited-node multicast group, and on e1000 a change of the multicast list
    /// rewrites the receive control register, after which QEMU's e1000 holds every received frame for 1 s (its
    /// flush-queue timer). Joined at carrier, that hold fell on the DHCP offer: 1.01-1.03 s after carrier at every
    /// e1000 boot. Joined now, it passes while the link negotiates; at carrier the kernel finds the address present
    /// and joins nothing. Done only where the kernel's own choice is this address (IPv6 on, `addr_gen_mode` 0:
    /// EUI-64 from a 6-byte MAC), so the node ends with the address it would have had; anything else is left to the
    /// kernel, and a refusal only costs the hold.
    private static func addKernelLinkLocalEarly(_ link: NetworkLink, netlink: RouteNetlink, log: Logger) {
        guard let mac = link.macAddress, let address = IPv6Address.linkLocal(modifiedEUI64Of: mac) else { return }
        let settings = "/proc/sys/net/ipv6/conf/\(link.name)/"
        func setting(_ name: String) -> Substring? {
            (try? FileContents.string(at: settings + name, limit: 64))?.split(separator: "\n").first
        }
        guard setting("disable_ipv6") == "0", setting("addr_gen_mode") == "0" else { return }
        do {
            try netlink.addIPv6Address(index: link.index, address: address, prefixLength: 64)
            log.debug(
                "network: link-local address added", metadata: ["interface": "\(link.name)", "address": "\(address)"])
        } catch  where error.isAlreadyExists {
            // The kernel got there first (carrier came with the link): nothing to do.
        } catch {
            log.debug(
                "network: link-local address left to the kernel",
                metadata: ["interface": "\(link.name)", "error": "\(error)"])
        }
    }

    /// Renames each link whose MAC is listed and whose name differs, setting it down first (the kernel refuses to
    /// rename a running link). Returns whether anything was renamed. A name held by another link is an error.
    static func applyRenames(
        _ renames: [InterfaceRename], links: [NetworkLink], netlink: RouteNetlink, log: Logger
    ) throws(RouteNetlink.Error) -> Bool {
        var renamed = false
        for rename in renames {
            guard let link = links.first(where: { $0.macAddress == rename.mac }), link.name != rename.name else {
                continue
            }
            if let holder = links.first(where: { $0.name == rename.name }) {
                log.warning(
                    "network: ifname= target name is taken, not renaming",
                    metadata: [
                        "interface": "\(link.name)", "name": "\(rename.name)",
                        "held-by": "\(holder.macAddress?.description ?? "-")",
                    ])
                continue
            }
            if link.isUp { try netlink.setLinkDown(index: link.index) }
            try netlink.renameLink(index: link.index, to: rename.name)
            log.info(
                "network: interface renamed",
                metadata: ["from": "\(link.name)", "to": "\(rename.name)", "mac": "\(rename.mac)"])
            renamed = true
        }
        return renamed
    }

    private static func existingConfiguration(netlink: RouteNetlink, link: NetworkLink) throws(Error) -> NetworkLease? {
        let addresses: [InterfaceAddress]
        do {
            addresses = try netlink.addresses(family: NetlinkConstants.familyIPv4, index: link.index)
        } catch {
            throw .netlink(step: "list addresses", interface: link.name, error)
        }
        // 169.254/16 (link-local) does not count as configured.
        let global = addresses.compactMap { entry -> (IPv4Address, Int)? in
            guard case .v4(let address) = entry.address, address.value >> 16 != 0xA9FE else { return nil }
            return (address, entry.prefixLength)
        }
        guard let (address, prefixLength) = global.first else { return nil }
        let gateway = try? netlink.routes().first(where: { $0.isDefault && $0.outputInterfaceIndex == link.index })?
            .gateway
        return NetworkLease(
            source: .existing, interfaceName: link.name, interfaceIndex: link.index, macAddress: link.macAddress,
            address: address, prefixLength: prefixLength, gateway: gateway ?? nil, mtu: link.mtu)
    }

    /// With no MAC or name to go by (`ip=dhcp`), a node with several cabled NICs may have its DHCP server behind any
    /// of them: the other links with carrier are DHCP fallbacks, in index order.
    private static func otherLinksWithCarrier(
        than chosen: NetworkLink, netlink: RouteNetlink, selection: InterfaceSelection
    ) -> [NetworkLink] {
        guard selection.bootMAC == nil, selection.interfaceName == nil, let links = try? netlink.links() else {
            return []
        }
        return links.filter { !$0.isLoopback && $0.index != chosen.index && $0.hasCarrier && $0.masterIndex == nil }
    }

    /// DHCP on each candidate in turn, sharing `timeout` between them (at least 3 s each); the first lease wins.
    private static func runDHCP(
        candidates: [NetworkLink], hostName: String?, timeout: Duration, log: Logger
    ) throws(Error) -> (NetworkLink, NetworkLease) {
        let share = candidates.count > 1 ? max(timeout / candidates.count, min(timeout, .seconds(3))) : timeout
        var firstError: Error?
        for link in candidates {
            if candidates.count > 1 {
                log.info(
                    "network: trying dhcp",
                    metadata: ["interface": "\(link.name)", "seconds": "\(share.components.seconds)"])
            }
            do {
                return (link, try runDHCP(link: link, hostName: hostName, timeout: share, log: log))
            } catch {
                if candidates.count > 1 {
                    log.warning("network: no lease, trying the next interface", metadata: ["error": "\(error)"])
                }
                if firstError == nil { firstError = error }
            }
        }
        throw firstError ?? .noInterface(selection: "interface for dhcp", waitedSeconds: 0, links: [])
    }

    private static func runDHCP(link: NetworkLink, hostName: String?, timeout: Duration, log: Logger) throws(Error)
        -> NetworkLease
    {
        guard let mac = link.macAddress, !mac.bytes.isEmpty else {
            throw .dhcp(.transport(interface: link.name, detail: "interface has no hardware address"))
        }
        let client = DHCPClient(
            configuration: .init(interfaceName: link.name, macAddress: mac, hostName: hostName, timeout: timeout))
        let dhcp: DHCPLease
        do {
            let transport = try DHCPSocketTransport(interfaceName: link.name)
            defer { transport.close() }
            dhcp = try client.acquire(transport: transport, log: log)
        } catch {
            throw .dhcp(error)
        }
        return NetworkLease(
            source: .dhcp, interfaceName: link.name, interfaceIndex: link.index, macAddress: mac, address: dhcp.address,
            prefixLength: dhcp.prefixLength, gateway: dhcp.routers.first, dnsServers: dhcp.dnsServers.map { .v4($0) },
            hostName: dhcp.hostName ?? hostName, domainName: dhcp.domainName, rootPath: dhcp.rootPath,
            nextServer: dhcp.nextServer, serverIdentifier: dhcp.serverIdentifier, mtu: dhcp.mtu.map { UInt32($0) },
            leaseSeconds: dhcp.leaseSeconds,
            routes: dhcp.classlessRoutes.filter { $0.prefixLength > 0 }.map {
                StaticRoute(
                    destination: $0.destination, prefixLength: $0.prefixLength,
                    gateway: $0.router.isUnspecified ? nil : $0.router)
            }, searchDomains: dhcp.searchDomains)
    }

    /// MTU, address, DHCP option-121 routes, then the default route. A gateway outside the subnet gets a link-scoped
    /// host route first (otherwise the kernel refuses routes through it with ENETUNREACH).
    private static func apply(
        lease: inout NetworkLease, link: NetworkLink, netlink: RouteNetlink, defaultRoute: Bool,
        addressAdded: inout Bool,
        log: Logger
    ) throws(Error) {
        if let mtu = lease.mtu, mtu != link.mtu {
            do {
                try netlink.setMTU(index: link.index, mtu: mtu)
            } catch {
                throw .netlink(step: "set mtu \(mtu)", interface: link.name, error)
            }
        }
        do {
            try netlink.addAddress(index: link.index, address: lease.address, prefixLength: lease.prefixLength)
            addressAdded = true
        } catch {
            throw .netlink(step: "add address \(lease.address)/\(lease.prefixLength)", interface: link.name, error)
        }
        log.info(
            "network: address configured",
            metadata: ["interface": "\(link.name)", "address": "\(lease.address)/\(lease.prefixLength)"])
        // On-link routes first: later routes' gateways may only be reachable through them.
        let ordered = lease.routes.filter { $0.gateway == nil } + lease.routes.filter { $0.gateway != nil }
        var onLink: [StaticRoute] = [
            StaticRoute(destination: lease.address, prefixLength: lease.prefixLength, gateway: nil)
        ]
        for route in ordered {
            do {
                if let gateway = route.gateway {
                    try addHostRouteIfOffLink(gateway, onLink: onLink, link: link, netlink: netlink)
                }
                try netlink.addRoute(
                    destination: route.destination, prefixLength: route.prefixLength, gateway: route.gateway,
                    index: link.index)
            } catch {
                throw .netlink(step: "add route \(route)", interface: link.name, error)
            }
            if route.gateway == nil { onLink.append(route) }
            log.info("network: route added", metadata: ["interface": "\(link.name)", "route": "\(route)"])
        }
        guard let gateway = lease.gateway else { return }
        guard defaultRoute else {
            log.info(
                "network: gateway not made the default route (not the boot interface)",
                metadata: ["interface": "\(link.name)", "gateway": "\(gateway)"])
            return
        }
        do {
            try addHostRouteIfOffLink(gateway, onLink: onLink, link: link, netlink: netlink)
            try netlink.addRoute(destination: .any, prefixLength: 0, gateway: gateway, index: link.index)
        } catch {
            throw .netlink(step: "add default route via \(gateway)", interface: link.name, error)
        }
        log.info("network: default route", metadata: ["interface": "\(link.name)", "gateway": "\(gateway)"])
    }

    /// A gateway outside every on-link prefix gets a link-scoped /32 route, or the kernel refuses routes through it.
    private static func addHostRouteIfOffLink(
        _ gateway: IPv4Address, onLink: [StaticRoute], link: NetworkLink, netlink: RouteNetlink
    ) throws(RouteNetlink.Error) {
        let reachable = onLink.contains {
            gateway.masked(prefixLength: $0.prefixLength) == $0.destination.masked(prefixLength: $0.prefixLength)
        }
        if !reachable { try netlink.addRoute(destination: gateway, prefixLength: 32, gateway: nil, index: link.index) }
    }

    private static func unique(_ servers: [IPAddress]) -> [IPAddress] {
        var seen = Set<IPAddress>()
        return servers.filter { seen.insert($0).inserted }
    }

    private static func elapsedMilliseconds(since start: ContinuousClock.Instant) -> Int64 {
        let (seconds, attoseconds) = start.duration(to: .now).components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
