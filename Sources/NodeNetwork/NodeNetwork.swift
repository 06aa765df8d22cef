// NodeNetwork: the node's IPv4 network bring-up and name resolution, with no external process (no udhcpc, no ip).
//
// Public API (what the boot sequence calls):
//
//   let lease = try NetworkConfigurator.bringUp(
//       selection: InterfaceSelection(bootMAC: MACAddress("52:54:00:12:34:56"),   // BOOTIF=
//                                     interfaceName: "eth0",                        // ifname=/netdev=/bootdev=/ip=<dev>
//                                     carrierTimeout: .seconds(10),                // rd.net.timeout.carrier
//                                     renames: [InterfaceRename(name: "boot0", mac: ...)],  // ifname=<name>:<mac>
//                                     assignedMAC: nil),                           // ip=<if>:dhcp::<macaddr>
//       method: .dhcp(hostName: "node01", timeout: .seconds(60)),                   // or .staticAddress(StaticIPv4Configuration(...))
//       extraRoutes: [StaticRoute(...)],                                            // rd.route=
//       nameservers: [IPAddress("10.0.0.53")!],                                     // nameserver=
//       log: logger)
//   // lease: NetworkLease { source (.dhcp/.staticConfiguration/.existing), interfaceName, interfaceIndex, macAddress,
//   //   address, prefixLength, gateway, dnsServers, hostName, domainName, searchDomains (option 119, else the
//   //   domain), rootPath (option 17), nextServer (siaddr or ip= peer), serverIdentifier, mtu, leaseSeconds,
//   //   routes (option 121, besides the default) }; lease.json is one JSON object.
//   // With no MAC or name (ip=dhcp), DHCP falls over to the other links with carrier. A failure after the address
//   // was set removes it again, so a retried bring-up starts clean.
//
//   let addresses = try Resolver(servers: lease.dnsServers, searchDomains: lease.searchDomains)
//       .resolve(host: "cnfs")                                                     // [IPAddress], IPv4 first
//
//   let text = ResolvConf.render(servers: lease.dnsServers, searchDomains: lease.searchDomains)  // the init writes it
//
// Errors are nested enums with lowercase, context-carrying descriptions: NetworkConfigurator.Error (interface,
// netlink step, errno text), DHCPClient.Error (interface, phase, attempts, seconds), Resolver.Error (name, servers,
// per-try failures).
//
// Layout:
//   DHCP/           DHCPMessage + DHCPOptions (pure codec), DHCPClient (state machine over a DHCPTransport seam),
//                   DHCPSocketTransport (UDP socket with SO_BINDTODEVICE + SO_BROADCAST; see its comment), DHCPLease.
//   DNS/            DNSName + DNSMessage (pure codec, bounded compression), Resolver, DNSTransport (UDP, TCP fallback).
//   Configuration/  NetworkConfigurator (rtnetlink through NodeSys.RouteNetlink), InterfaceSelector (pure),
//                   inputs (InterfaceSelection, AddressingMethod, StaticIPv4Configuration, StaticRoute),
//                   NetworkLease, ResolvConf.
// Address types (IPv4Address, IPv6Address, IPAddress, MACAddress, IPNetwork) come from NetworkAddresses.
@_exported import NetworkAddresses
