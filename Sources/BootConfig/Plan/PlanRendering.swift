/// The plan as text for people (`nodeinit plan` without `--json`): a numbered list of the steps, each with the
/// values it uses, followed by the warnings.
extension BootPlan {
    public func renderText() -> String {
        var lines: [String] = []
        lines.append("boot plan" + (image.map { " for image \($0)" } ?? "") + (nodeName.map { ", node \($0)" } ?? ""))
        for (number, step) in steps.enumerated() {
            let details = describe(step)
            lines.append("\(number + 1). \(details.first ?? "")")
            for detail in details.dropFirst() { lines.append("     \(detail)") }
        }
        if !warnings.isEmpty {
            lines.append("warnings:")
            for warning in warnings { lines.append("  - \(warning)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func describe(_ step: BootStep) -> [String] {
        switch step {
        case .mountKernelFilesystems:
            return ["mount /proc, /sys, /dev, /run"]
        case .pause(let point):
            return ["pause: shell at \(point.rawValue) (exit the shell to continue)"]
        case .loadModules:
            var out = ["load modules"]
            for module in modules.load {
                let parameters = module.parameters.isEmpty ? "" : " " + module.parameters.joined(separator: " ")
                out.append("\(module.name)\(parameters)  (\(module.reason))")
            }
            if !modules.blacklist.isEmpty { out.append("blacklisted: " + modules.blacklist.joined(separator: ", ")) }
            return out
        case .loadDeviceDrivers:
            var out = ["load drivers for present devices (modalias)"]
            let others = modules.parameters.filter { parameter in !modules.load.contains { $0.name == parameter.module }
            }
            for parameter in others { out.append("parameter \(parameter.module).\(parameter.name)=\(parameter.value)") }
            return out
        case .configureNetwork:
            return describeNetwork()
        case .planFromLease:
            if root.awaitsDHCPRootPath {
                if let fallback = root.rootPathFallback {
                    return [
                        "plan again with the lease: the root from its root-path (DHCP option 17), else \(fallback) (\(root.syntax) without nfsroot=), the node name from its host name"
                    ]
                }
                return [
                    "plan again with the lease: the root from its root-path (DHCP option 17, root=dhcp), the node name from its host name"
                ]
            }
            if let nodeName { return ["keep the plan after the lease (the node name \(nodeName) is known already)"] }
            return ["plan again with the lease: its host name (DHCP option 12) names the node"]
        case .loadTables:
            return [
                "read the xCAT tables: litefile from \(tables.litefile?.description ?? "the image's /etc/nodeinit/litefile.csv"), "
                    + "litetree from \(tables.litetree?.description ?? "the image's /etc/nodeinit/litetree.csv"), "
                    + "statelite from \(tables.statelite?.description ?? "the image's /etc/nodeinit/statelite.csv")",
                "plan again with them (statelite steps follow when a table or parameter asks for statelite)",
            ]
        case .fetchXcatdTables:
            guard let xcatd = statelite.xcatd else { return ["ask xcatd for the litefile and litetree"] }
            var out = [
                "unless a litefile was read: ask xcatd at \(xcatd.endpoint) over TLS for this node's litefile and litetree "
                    + "(xcatd names the node by reverse DNS of its address), then plan again with them"
            ]
            if let ca = xcatd.caPath {
                out.append("verify xcatd against the CA \(ca) in the image (required)")
            } else {
                out.append(
                    "verify xcatd against the first CA the image holds of "
                        + XcatdPlan.caCandidates.joined(separator: ", ") + "; none: unverified, said loudly")
            }
            out.append(
                xcatd.serverName.map { "its certificate must name \($0)" }
                    ?? "the certificate's name is not checked (XCAT= gives an address; nodeinit.xcatd_name= names it)")
            out.append(
                "\(xcatd.attempts) attempts, a random pause of 0-\(xcatd.maxPauseSeconds) s between them (xCAT's), "
                    + "\(xcatd.timeoutSeconds) s per wait")
            return out
        case .mountRoot:
            if root.awaitsDHCPRootPath {
                if let fallback = root.rootPathFallback {
                    return [
                        "mount the NFS root the DHCP root-path (option 17) names, else \(fallback) from the DHCP next-server, on \(root.mountPoint) (\(root.syntax); planned again after DHCP)"
                    ]
                }
                return [
                    "mount the NFS root the DHCP root-path (option 17) names on \(root.mountPoint) (root=dhcp; planned again after DHCP)"
                ]
            }
            var out = [
                "mount NFS root \(root.server.map(bracketed) ?? "<server from ip= peer or DHCP>"):\(root.path) on \(root.mountPoint) (\(root.syntax))"
            ]
            if root.hostnameSubstitution { out.append("%s in the path is replaced by the host name at run time") }
            for attempt in root.attempts {
                out.append(
                    "try NFSv\(attempt.version): -t \(attempt.fsType) -o \(attempt.options),addr=<server address>")
            }
            out.append("retry for up to \(debug.retrySeconds) s")
            switch nfsClientIdentity {
            case .commandLine(let value): out.append("NFSv4 client identity \(value) (nfs.nfs4_unique_id=)")
            case .bootInterfaceMAC:
                out.append("NFSv4 client identity nodeinit-<boot interface MAC>, set after the network")
            }
            return out
        case .mountOverlayDevice:
            guard case .device(let device) = overlay else { return ["mount overlay device"] }
            var out = ["wait for \(device.device) (\(device.device.udevPath)), mount it on \(device.deviceMountPoint)"]
            out.append(
                debug.deviceTimeoutSeconds == 0
                    ? "wait without limit (rd.timeout=0)" : "wait up to \(debug.deviceTimeoutSeconds) s")
            out.append(
                device.required
                    ? "if it fails: stop the boot (nodeinit.overlay.required)"
                    : "if it fails: fall back to a tmpfs upper")
            if device.reset { out.append("empty the upper dir first (rd.overlay.reset)") }
            out.append("image mismatch: \(device.mismatchPolicy.rawValue)")
            return out
        case .mountOverlayTmpfs:
            var options: [String] = []
            if case .tmpfs(let tmpfs) = overlay {
                if let size = tmpfs.size { options.append("size=\(size)") }
                if let blocks = tmpfs.nrBlocks { options.append("nr_blocks=\(blocks)") }
                if let inodes = tmpfs.nrInodes { options.append("nr_inodes=\(inodes)") }
            }
            return [
                "mount tmpfs on \(BootPlanner.overlayTmpfs)"
                    + (options.isEmpty ? "" : " -o " + options.joined(separator: ","))
            ]
        case .mountOverlay:
            let mounts: OverlayMounts
            switch overlay {
            case .none, .waltInit: return ["mount overlay"]
            case .tmpfs(let tmpfs): mounts = tmpfs.mounts
            case .device(let device): mounts = device.mounts
            }
            return [
                "mount overlay on \(mounts.target)",
                "lowerdir=\(mounts.lowerDir),upperdir=\(mounts.upperDir),workdir=\(mounts.workDir),\(mounts.options)",
            ]
        case .mountStateliteTmpfs:
            return ["mount tmpfs on \(switchRoot.newRoot)/.statelite, create tmpfs/ in it"]
        case .mountStatemnt:
            guard let statemnt = statelite.statemnt else { return ["mount STATEMNT"] }
            var out = [
                "mount persistent store \(bracketed(statemnt.server)):\(statemnt.nodePath) on \(switchRoot.newRoot)\(statemnt.mountPoint) (from \(statemnt.origin))",
                "create \(statemnt.nodePath) through \(bracketed(statemnt.server)):\(statemnt.path) first",
            ]
            for attempt in statemnt.attempts {
                out.append(
                    "try NFSv\(attempt.version): -t \(attempt.fsType) -o \(attempt.options),addr=<server address>")
            }
            return out
        case .mountLocalDisk:
            guard let disk = statelite.localDisk else { return ["mount the local disk"] }
            return [
                "mount tmpfs on \(switchRoot.newRoot)\(disk.logMountPoint)",
                "wait for local disk \(disk.device) (\(disk.device.udevPath)), mount it read-write on \(switchRoot.newRoot)\(disk.mountPoint)",
                debug.deviceTimeoutSeconds == 0
                    ? "wait without limit (rd.timeout=0)" : "wait up to \(debug.deviceTimeoutSeconds) s",
                "no device or no file system on it: localdisk entries stay in RAM (warning)",
            ]
        case .mountLitetree(let index):
            guard index < statelite.treeMounts.count else { return ["mount litetree \(index)"] }
            let tree = statelite.treeMounts[index]
            guard let server = tree.server else {
                return [
                    "use litetree \(tree.priority): the image's \(tree.directory) in place (\(switchRoot.newRoot)\(tree.mountPoint))"
                ]
            }
            var out = [
                "mount litetree \(tree.priority): \(bracketed(server)):\(tree.directory) read-only on \(switchRoot.newRoot)\(tree.mountPoint)"
            ]
            for attempt in tree.attempts {
                out.append("try NFSv\(attempt.version): -o \(attempt.options),addr=<server address>")
            }
            return out
        case .applyLitefile(let index, _):
            guard index < statelite.entries.count else { return ["apply litefile entry \(index)"] }
            let entry = statelite.entries[index]
            let spelling = entry.optionSpelling.isEmpty ? "blank" : entry.optionSpelling
            var out = ["litefile \(entry.path): \(entry.option.rawValue) (written \(spelling), \(entry.origin))"]
            if let parent = entry.parent { out.append("inside \(parent)") }
            out.append(
                (entry.usesAllSources ? "concatenate all of: " : "first found of: ")
                    + entry.sources.joined(separator: ", "))
            return out
        case .linkMtab:
            return ["link \(switchRoot.newRoot)/.statelite/tmpfs/etc/mtab to /proc/mounts"]
        case .startAgent(let port):
            var out = ["start the node-save agent on TCP port \(port)"]
            var allowed = agent.allow.map(\.description)
            if agent.allowBootServer { allowed.insert("the NFS root server", at: 0) }
            out.append("allow: " + allowed.joined(separator: ", "))
            if let token = agent.tokenPath { out.append("token file: \(token)") }
            if !saveExclude.isEmpty { out.append("save excludes: " + saveExclude.joined(separator: ", ")) }
            return out
        case .prepareShutdown:
            return [
                "prepare /run/initramfs/shutdown: at power-off or reboot systemd returns there; it stops the agent, "
                    + "unmounts the image and leaves writable devices clean"
            ]
        case .switchRoot:
            let arguments =
                switchRoot.initArguments.isEmpty ? "" : " " + switchRoot.initArguments.joined(separator: " ")
            var out = ["switch_root to \(switchRoot.newRoot), exec \(switchRoot.initPath)\(arguments)"]
            if case .waltInit(let walt) = overlay {
                out.append("the root stays read-only: \(walt.initPath) mounts WalT's own overlay over it")
                out.append(
                    "node save captures walt-init's upper: \(walt.networkUpper), or the hybrid diff named in "
                        + walt.environmentFile)
            }
            var failure =
                debug.shellOnFailure
                ? "on failure: shell, then \(debug.emergencyAction.rawValue)"
                : "on failure: \(debug.emergencyAction.rawValue)"
            if let panic = debug.panicSeconds { failure += "; kernel panic timeout \(panic) s" }
            out.append(failure)
            if debug.verbose { out.append("verbose log (rd.debug)") }
            return out
        }
    }

    private func describeNetwork() -> [String] {
        var out = ["configure the network"]
        for rename in network.interfaceNames { out.append("name \(rename.mac) \(rename.name)") }
        for link in network.links { out.append(describeLink(link)) }
        for (position, interface) in network.interfaces.enumerated() {
            let selector: String
            switch interface.selector {
            case .name(let name): selector = name
            case .mac(let mac): selector = "interface with MAC \(mac)"
            case .anyWithCarrier: selector = "every interface with a carrier (first lease wins)"
            }
            var method: String
            switch interface.method {
            case .dhcp: method = "DHCPv4"
            case .dhcp6: method = "DHCPv6"
            case .auto6: method = "IPv6 autoconfiguration"
            case .link6: method = "IPv6 link-local"
            case .either6: method = "DHCPv4 or IPv6 autoconfiguration"
            case .unmanaged: method = "as the kernel left it"
            case .static(let address):
                method = "static \(address.address)/\(address.prefixLength)"
                if let gateway = address.gateway { method += " gateway \(gateway)" }
                if let peer = address.peer { method += " peer \(peer)" }
            }
            var extra: [String] = []
            if let hostname = interface.hostname { extra.append("hostname \(hostname)") }
            if let mtu = interface.mtu { extra.append("mtu \(mtu)") }
            if let mac = interface.mac { extra.append("set MAC \(mac)") }
            if network.interfaces.count > 1 {
                extra.append(
                    position == 0 ? "boot interface" : "after the boot interface, no default route, failure only warns")
            }
            out.append(
                "\(selector): \(method)" + (extra.isEmpty ? "" : ", " + extra.joined(separator: ", "))
                    + "  (\(interface.origin))")
        }
        if !network.nameservers.isEmpty {
            out.append("DNS: " + network.nameservers.map(\.description).joined(separator: ", "))
        }
        if network.ignoreDHCPNameservers { out.append("ignore DNS servers from DHCP (rd.peerdns=0)") }
        for route in network.routes {
            let via = route.gateway.map { " via \($0)" } ?? " on-link"
            out.append(
                "route \(route.destination)\(via)" + (route.interface.map { " dev \($0)" } ?? " dev <boot interface>"))
        }
        return out
    }
}

/// `create bond bond0 over eth0, eth1: mode active-backup, miimon 100, mtu 9000  (bond=...)`.
func describeLink(_ link: VirtualLink) -> String {
    let members = link.lowerLinks.joined(separator: ", ")
    var text: String
    switch link.kind {
    case .bond:
        text = "create bond \(link.name) over \(members)"
        if let bond = link.bond {
            let options = bond.options.map { option -> String in
                if !option.addresses.isEmpty {
                    return "\(option.name) " + option.addresses.map(\.description).joined(separator: ",")
                }
                if let interface = option.interface { return "\(option.name) \(interface) (once enslaved)" }
                if let mac = option.mac { return "\(option.name) \(mac)" }
                return option.text == String(option.number)
                    ? "\(option.name) \(option.number)" : "\(option.name) \(option.text) (\(option.number))"
            }
            text += ": mode \(bond.mode.rawValue)" + options.map { ", " + $0 }.joined()
        }
        if let mtu = link.mtu { text += ", mtu \(mtu)" }
    case .vlan:
        text = "create VLAN \(link.name) (id \(link.vlanID.map(String.init) ?? "?")) on \(members)"
    case .bridge:
        text = "create bridge \(link.name) with ports \(members), forward delay 0"
    }
    return text + "  (\(link.origin))"
}

private func bracketed(_ server: String) -> String {
    server.contains(":") ? "[\(server)]" : server
}
