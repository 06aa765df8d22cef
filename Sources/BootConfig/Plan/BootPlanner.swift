import RuntimeLayout
import TextSearch

/// Everything the planner reads. Tables are passed as text with the name used in error messages.
public struct BootInputs: Sendable {
    public struct Table: Sendable {
        /// How `text` is written.
        public enum Format: Sendable, Equatable {
            /// `tabdump` CSV with the table's columns (all images; merged for the node's image by the planner).
            case tabdump
            /// xcatd's answer for this node, one entry per line without the `NODE: ` prefix (`XcatdAnswer.tableText`):
            /// litefile `OPTIONS FILE`, litetree `[SRV:]DIR[ :MNTOPTS]` in priority order.
            case xcatd
        }

        /// Shown in errors as `<name>:<line>`.
        public var name: String
        public var text: String
        public var format: Format
        public init(name: String, text: String, format: Format = .tabdump) {
            self.name = name
            self.text = text
            self.format = format
        }
    }

    public var commandLine: KernelCommandLine
    public var litefile: Table?
    public var litetree: Table?
    public var statelite: Table?
    /// Overrides `nodeinit.image=`.
    public var image: String?
    /// The host name learnt at run time (DHCP), used for `%s`, the node name and `$node` when nothing on the
    /// command line gives one.
    public var hostName: String?
    /// The DHCP root-path (option 17) for `root=dhcp`, once the lease gave one.
    public var dhcpRootPath: String?

    public init(
        commandLine: KernelCommandLine, litefile: Table? = nil, litetree: Table? = nil, statelite: Table? = nil,
        image: String? = nil, hostName: String? = nil, dhcpRootPath: String? = nil
    ) {
        self.dhcpRootPath = dhcpRootPath
        self.commandLine = commandLine
        self.litefile = litefile
        self.litetree = litetree
        self.statelite = statelite
        self.image = image
        self.hostName = hostName
    }
}

/// Turns `BootInputs` into a `BootPlan`. Pure and deterministic. Every error it throws conforms to
/// `BootConfigError` (a `ParameterError`, or a table's nested `Error`).
public enum BootPlanner {
    /// Fixed mount points, from the node's runtime layout.
    public static let newRoot = RuntimeLayout.newRoot
    public static let lowerDir = RuntimeLayout.node.lowerDir
    public static let overlayTmpfs = RuntimeLayout.node.overlayTmpfs
    public static let overlayDevice = RuntimeLayout.node.overlayDevice
    public static let overlayOptions = "redirect_dir=off,metacopy=off,index=off,xino=off"

    public static func plan(_ inputs: BootInputs) throws -> BootPlan {
        let commandLine = inputs.commandLine
        var warnings: [String] = []
        var seenWarningKeys: Set<String> = []
        for parameter in commandLine.parameters where !seenWarningKeys.contains(parameter.key) {
            seenWarningKeys.insert(parameter.key)
            if let warning = KnownParameters.nearMissWarning(for: parameter.key) { warnings.append(warning) }
        }
        // `walt` is WalT's marker for its own initramfs script; the root is NFS all the same (root=/dev/nfs[4]).
        if let type = commandLine.last("rootfstype"), type != "nfs", type != "nfs4", type != "walt" {
            throw ParameterError(
                parameter: "rootfstype", value: type,
                problem: "nodeinit boots NFS roots only (rootfstype=nfs, nfs4 or walt)")
        }
        if commandLine.contains("rw") && commandLine.lastParameter("rw")?.value == nil {
            warnings.append("rw ignored: the NFS root is always mounted read-only (the overlay makes / writable)")
        }

        let nodeinit = try NodeinitSpec.parse(commandLine)
        let network = try NetworkSpec.parse(commandLine)
        var rootSpec = try RootSpec.parse(commandLine, dhcpRootPath: inputs.dhcpRootPath)
        let overlaySpec = try OverlaySpec.parse(commandLine)
        let debug = try DebugSpec.parse(commandLine)
        let stateliteSpec = try StateliteSpec.parse(commandLine)
        let moduleSpec = try ModuleSpec.parse(commandLine)
        warnings += network.warnings + overlaySpec.warnings

        let image = inputs.image ?? nodeinit.image
        let ipHostName = network.ip.lazy.compactMap(\.hostname).first
        let nodeName = stateliteSpec.node ?? ipHostName ?? inputs.hostName

        let initPath = try planInitPath(commandLine)
        let overlay = try planOverlay(overlaySpec, image: image, initPath: initPath)
        let networkPlan = planNetwork(network)
        // root=/dev/nfs without nfsroot= waits for the lease's root-path; with only static ip= there is no lease, so
        // the kernel's default path is the root at once.
        if rootSpec.rootPathFallback != nil, rootSpec.dhcpRootPath == nil,
            networkPlan.interfaces.allSatisfy({ if case .static = $0.method { true } else { false } })
        {
            rootSpec = try RootSpec.parse(commandLine, dhcpRootPath: "")
        }
        let root = try planRoot(
            rootSpec, network: networkPlan, nodeinit: nodeinit, overlay: overlay,
            hostName: ipHostName ?? inputs.hostName ?? stateliteSpec.node, warnings: &warnings)

        var attributes: [String: String] = [:]
        if let server = root.server { attributes["noderes.nfsserver"] = server }
        if let xcat = stateliteSpec.xcatServer, let host = xcat.splitColonsOutsideBrackets().first {
            attributes["noderes.xcatmaster"] = host
            attributes["site.master"] = host
        }
        if let image { attributes["nodetype.provmethod"] = image }
        for (key, value) in nodeinit.attributes { attributes[key] = value }
        let variables = XcatVariables(attributes: attributes, nodeName: nodeName)

        let statelite = try planStatelite(
            inputs, spec: stateliteSpec, nodeinit: nodeinit, root: rootSpec, image: image, nodeName: nodeName,
            variables: variables, nfsVersions: nodeinit.nfsVersions ?? NFSMountOptions.defaultVersions,
            warnings: &warnings)

        let modules = planModules(
            moduleSpec, nodeinit: nodeinit, root: root, overlay: overlay, statelite: statelite, network: networkPlan,
            warnings: &warnings)
        let walt = try planWalt(commandLine)
        // The WalT server pulls node saves (`walt node save`); by default it is allowed beside the NFS root server.
        let waltClients =
            nodeinit.agentAllow == nil
            ? (walt?.serverAddress).map { [IPNetwork(address: $0, prefixLength: $0.isIPv6 ? 128 : 32)] } ?? [] : []
        let agent = AgentPlan(
            port: nodeinit.agentPort, allow: nodeinit.agentAllow ?? waltClients,
            allowBootServer: nodeinit.agentAllow == nil, tokenPath: nodeinit.agentToken)
        let switchRoot = SwitchRootPlan(newRoot: newRoot, initPath: initPath, initArguments: commandLine.initArguments)

        var plan = BootPlan(
            image: image, nodeName: nodeName, modules: modules, network: networkPlan, root: root, overlay: overlay,
            statelite: statelite,
            tables: TableLocations(
                litefile: nodeinit.litefile, litetree: nodeinit.litetree, statelite: nodeinit.statelite),
            debug: debug, agent: agent, saveExclude: nodeinit.saveExclude, switchRoot: switchRoot, steps: [],
            warnings: [])
        plan.walt = walt
        if let given = moduleSpec.parameters.last(where: { $0.module == "nfs" && $0.name == "nfs4_unique_id" }) {
            plan.nfsClientIdentity = .commandLine(given.value)
        }
        plan.steps = steps(for: plan)
        plan.warnings = warnings
        return plan
    }

    // MARK: - WalT

    static func planWalt(_ commandLine: KernelCommandLine) throws -> WaltPlan? {
        var parameters: [WaltParameter] = []
        for parameter in commandLine.parameters where parameter.key.hasPrefix("walt.") {
            parameters.append(WaltParameter(name: parameter.key.droppingScalars(5), value: parameter.value ?? ""))
        }
        let boot = commandLine.last("boot")
        guard boot == "walt" || !parameters.isEmpty else { return nil }
        var server: IPAddress? = nil
        if let text = commandLine.last("walt.server.ip") {
            guard let address = IPAddress(text) else {
                throw ParameterError(
                    parameter: "walt.server.ip", value: text, problem: "expected the WalT server's IP address")
            }
            server = address
        }
        return WaltPlan(
            boot: boot == "walt", serverAddress: server, nodeModel: commandLine.last("walt.node.model"),
            parameters: parameters)
    }

    // MARK: - Network

    /// The network part of a plan alone (`nodeinit network-up`): the same parameters, parsing and defaults as the boot.
    public static func planNetwork(_ commandLine: KernelCommandLine) throws -> (
        network: NetworkPlan, warnings: [String]
    ) {
        let spec = try NetworkSpec.parse(commandLine)
        return (planNetwork(spec), spec.warnings)
    }

    static func planNetwork(_ spec: NetworkSpec) -> NetworkPlan {
        // With bonds, VLANs or bridges, an ip= that names no interface means the first link nothing is built on:
        // its slaves or ports carry no address, and the BOOTIF MAC may be a slave's.
        let topLink = VirtualLinkSpec.topLinks(spec.links).first?.name
        func defaultSelector() -> InterfaceSelector {
            if let device = spec.bootDevice { return .name(device) }
            if let topLink { return .name(topLink) }
            if let mac = spec.bootMAC { return .mac(mac) }
            return .anyWithCarrier
        }
        var interfaces: [InterfaceConfig] = []
        var nameservers = spec.nameservers
        for ip in spec.ip {
            let selector: InterfaceSelector = ip.device.map { .name($0) } ?? defaultSelector()
            interfaces.append(
                InterfaceConfig(
                    selector: selector, method: ip.method, hostname: ip.hostname, mtu: ip.mtu, mac: ip.mac,
                    origin: "ip=\(ip.raw)"))
            for server in ip.nameservers where !nameservers.contains(server) { nameservers.append(server) }
        }
        if interfaces.isEmpty {
            interfaces.append(
                InterfaceConfig(
                    selector: defaultSelector(), method: .dhcp, hostname: nil, mtu: nil, mac: nil, origin: "default"))
        }
        // The boot interface (bootdev=/netdev=) goes first: its lease gives the root server, DNS and the default route.
        if let device = spec.bootDevice, let index = interfaces.firstIndex(where: { $0.selector == .name(device) }),
            index > 0
        {
            interfaces.insert(interfaces.remove(at: index), at: 0)
        }
        return NetworkPlan(
            bootMAC: spec.bootMAC, interfaceNames: spec.interfaceNames, interfaces: interfaces,
            nameservers: nameservers, ignoreDHCPNameservers: spec.peerDNS == false, routes: spec.routes,
            required: true, links: spec.links)
    }

    // MARK: - Root

    static func planRoot(
        _ spec: RootSpec, network: NetworkPlan, nodeinit: NodeinitSpec, overlay: OverlayPlan, hostName: String?,
        warnings: inout [String]
    ) throws -> RootPlan {
        var server = spec.server
        var isAddress = spec.serverIsAddress
        if server == nil {
            for interface in network.interfaces {
                if case .static(let address) = interface.method, let peer = address.peer {
                    server = peer.description
                    isAddress = true
                    break
                }
            }
        }
        var path = spec.path
        var substitution = false
        if let range = path.range(ofBytes: "%s") {
            if let hostName {
                path.replaceSubrange(range, with: hostName)
            } else {
                substitution = true
            }
        }
        var options = try NFSMountOptions(spec.options, parameter: spec.parameter, whole: spec.rawValue, readOnly: true)
        warnings += options.warnings
        // The image root does not change under a booted node unless the site says so: no close-to-open GETATTRs,
        // a long attribute cache (the root alone: STATEMNT and litetree mounts keep the kernel's live caching).
        if (nodeinit.nfsRootCache ?? .image) == .image {
            options = options.addingImageCacheDefaults()
        }
        var versions = options.versions(
            fallback: spec.v4Only
                ? NFSMountOptions.v4Versions
                : spec.v3Only ? ["3"] : (nodeinit.nfsVersions ?? NFSMountOptions.rootVersions))
        if spec.v4Only {
            if let requested = options.requestedVersion, requested == "3" {
                throw ParameterError(
                    parameter: spec.parameter, value: spec.rawValue, problem: "nfs4: conflicts with vers=3")
            }
            versions = versions.filter { $0 != "3" }
        }
        let attempts = options.attempts(
            versions: versions, readOnly: true, warnings: &warnings, parameter: spec.parameter)
        // Without an overlay of ours the NFS root is the new root itself (walt-init pivots away from it).
        let mountPoint: String
        switch overlay {
        case .none, .waltInit: mountPoint = newRoot
        case .tmpfs, .device: mountPoint = lowerDir
        }
        return RootPlan(
            syntax: spec.syntax, server: server, serverIsAddress: isAddress, path: path,
            hostnameSubstitution: substitution, versions: versions, attempts: attempts, mountPoint: mountPoint,
            dhcpRootPath: spec.dhcpRootPath, rootPathFallback: spec.rootPathFallback,
            readaheadKiB: readahead(nodeinit))
    }

    /// `nodeinit.nfs.readahead=`, else 512 KiB for an image root and the kernel's for a live one (`live` keeps the
    /// kernel's defaults throughout).
    static func readahead(_ nodeinit: NodeinitSpec) -> Int? {
        switch nodeinit.nfsReadahead {
        case .kernel: nil
        case .kibibytes(let kibibytes): kibibytes
        case nil: (nodeinit.nfsRootCache ?? .image) == .image ? RootPlan.defaultImageReadaheadKiB : nil
        }
    }

    // MARK: - Overlay

    /// `init=` (default /sbin/init): an absolute path without blanks.
    static func planInitPath(_ commandLine: KernelCommandLine) throws(ParameterError) -> String {
        guard let parameter = commandLine.lastParameter("init") else { return "/sbin/init" }
        let value = parameter.value ?? ""
        guard value.startsWith("/"), !value.containsWhitespaceOrControl else {
            throw ParameterError(parameter: "init", value: value, problem: "expected an absolute path")
        }
        return value
    }

    /// True when `init=` names WalT's walt-init (`/bin/walt-init` on WalT's command lines).
    static func isWaltInit(_ initPath: String) -> Bool {
        initPath.split(separator: "/").last == "walt-init"
    }

    static func planOverlay(_ spec: OverlaySpec, image: String?, initPath: String) throws(ParameterError)
        -> OverlayPlan
    {
        if isWaltInit(initPath) {
            // walt-init always mounts its own overlay over the root it is handed; ours would sit under it.
            if spec.explicit, spec.upper != .disabled {
                throw ParameterError(
                    parameter: "init", value: initPath,
                    problem: "walt-init builds WalT's own overlay over the NFS root; rd.overlay=/rd.live.overlay= "
                        + "would put a second one under it: drop the overlay parameter, or boot another init")
            }
            return .waltInit(
                WaltInitOverlay(
                    initPath: initPath, networkUpper: WaltLayout.networkUpper,
                    environmentFile: WaltLayout.environmentFile))
        }
        switch spec.upper {
        case .disabled:
            return .none
        case .tmpfs(let size, let nrInodes, let nrBlocks):
            return .tmpfs(
                TmpfsOverlay(
                    size: size, nrInodes: nrInodes, nrBlocks: nrBlocks, tmpfsMountPoint: overlayTmpfs,
                    mounts: OverlayMounts(
                        lowerDir: lowerDir, upperDir: overlayTmpfs + "/upper", workDir: overlayTmpfs + "/work",
                        target: newRoot, options: overlayOptions)))
        case .device(let device, let path):
            var persistentUpper = overlayDevice + "/overlay"
            var persistentWork = overlayDevice + "/ovlwork"
            if let path {
                var clean = path.startsWith("/") ? path : "/" + path
                while clean.endsWith("/") && clean.unicodeScalars.count > 1 { clean = clean.droppingLastScalars(1) }
                persistentUpper = overlayDevice + clean
                let parent = LitefileTable.ancestorDirectories(of: clean).last ?? "/"
                persistentWork = overlayDevice + parent + "ovlwork"
            }
            let mounts: OverlayMounts
            if spec.readOnly {
                // The persistent upper becomes the top lower layer; writes go to a tmpfs.
                mounts = OverlayMounts(
                    lowerDir: persistentUpper + ":" + lowerDir, upperDir: overlayTmpfs + "/upper",
                    workDir: overlayTmpfs + "/work", target: newRoot, options: overlayOptions)
            } else {
                mounts = OverlayMounts(
                    lowerDir: lowerDir, upperDir: persistentUpper, workDir: persistentWork, target: newRoot,
                    options: overlayOptions)
            }
            return .device(
                DeviceOverlay(
                    device: device, path: path, deviceMountPoint: overlayDevice, reset: spec.reset,
                    readOnly: spec.readOnly, mismatchPolicy: spec.mismatchPolicy, required: spec.required,
                    mounts: mounts))
        }
    }

    // MARK: - Statelite

    static func substitute(
        _ text: String, _ variables: XcatVariables, warnings: inout [String], fail: (String) -> any BootConfigError
    ) throws -> String {
        switch variables.substitute(text) {
        case .success(let (value, found)):
            warnings += found
            return value
        case .failure(let failure):
            throw fail(failure.problem)
        }
    }

    static func planStatelite(
        _ inputs: BootInputs, spec: StateliteSpec, nodeinit: NodeinitSpec, root: RootSpec, image: String?,
        nodeName: String?, variables: XcatVariables, nfsVersions: [String], warnings: inout [String]
    ) throws -> StatelitePlan {
        // Persistent store: STATEMNT= on the command line wins (xCAT's nodeset already resolved the table);
        // the statelite table is used when the command line has none.
        var statemntValue: String? = nil
        var statemntOptions = spec.mountOptions
        var origin = "STATEMNT"
        var statemntParameter = "STATEMNT"
        if let value = spec.statemnt {
            statemntValue = try substitute(value, variables, warnings: &warnings) { problem in
                ParameterError(parameter: "STATEMNT", value: value, problem: problem)
            }
        } else if !spec.statemntPresent, let table = inputs.statelite {
            let rows = try StateliteTable.parse(table.text, file: table.name)
            if let row = try StateliteTable.select(
                rows, node: nodeName, groups: nodeinit.groups, image: image, file: table.name),
                !row.statemnt.isEmpty
            {
                statemntValue = try substitute(row.statemnt, variables, warnings: &warnings) { problem in
                    StateliteTable.Error.invalidRow(file: table.name, line: row.line, problem: problem)
                }
                if statemntOptions.isEmpty { statemntOptions = row.mountOptions }
                origin = "\(table.name):\(row.line)"
                statemntParameter = "statemnt"
            }
        }
        var statemnt: StatemntPlan? = nil
        if let value = statemntValue {
            let (server, isAddress, path) = try StateliteSpec.parseStatemnt(value, parameter: statemntParameter)
            let optionList = statemntOptions.isEmpty ? StateliteSpec.defaultStatemntOptions : statemntOptions
            let options = try NFSMountOptions(
                optionList, parameter: "MNTOPTS", whole: optionList.joined(separator: ","), readOnly: false)
            warnings += options.warnings
            let attempts = options.attempts(
                versions: options.versions(fallback: nfsVersions), readOnly: false, warnings: &warnings,
                parameter: "MNTOPTS")
            statemnt = StatemntPlan(
                server: server, serverIsAddress: isAddress, path: path,
                nodePath: (path == "/" ? "" : path) + "/" + (nodeName ?? "%n"),
                mountPoint: "/.statelite/persistent", attempts: attempts, origin: origin)
        }

        // litetree: one mount per tree with a server; image directories are searched in place.
        var trees: [LitetreeMount] = []
        if let table = inputs.litetree {
            let rows = LitetreeTable.merged(try LitetreeTable.parse(table), image: image)
            for row in rows {
                let value = try substitute(row.directory, variables, warnings: &warnings) { problem in
                    LitetreeTable.Error.invalidRow(file: table.name, line: row.line, problem: problem)
                }
                func fail(_ problem: String) -> LitetreeTable.Error {
                    .invalidRow(file: table.name, line: row.line, problem: problem)
                }
                if value.startsWith("/") {
                    var directory = value
                    while directory.endsWith("/") && directory.unicodeScalars.count > 1 {
                        directory = directory.droppingLastScalars(1)
                    }
                    trees.append(
                        LitetreeMount(
                            priority: row.priority, server: nil, directory: directory, mountPoint: directory,
                            attempts: []))
                    continue
                }
                let parsed: (server: String, isAddress: Bool, path: String)
                do {
                    parsed = try StateliteSpec.parseStatemnt(value, parameter: "directory")
                } catch {
                    throw fail(error.description)
                }
                let options = try NFSMountOptions(
                    row.mountOptions, parameter: "mntopts", whole: row.mountOptions.joined(separator: ","),
                    readOnly: true)
                var attemptWarnings: [String] = []
                let attempts = options.attempts(
                    versions: options.versions(fallback: nfsVersions), readOnly: true, warnings: &attemptWarnings,
                    parameter: "\(table.name):\(row.line) mntopts")
                warnings += attemptWarnings
                let mountPoint = "/.statelite/mnt/" + parsed.server + (parsed.path == "/" ? "" : parsed.path)
                trees.append(
                    LitetreeMount(
                        priority: row.priority, server: parsed.server, directory: parsed.path, mountPoint: mountPoint,
                        attempts: attempts))
            }
        }

        var entries: [LitefileEntry] = []
        if let table = inputs.litefile {
            let rows = try LitefileTable.merged(try LitefileTable.parse(table), image: image, file: table.name)
            let entryPaths = Set(rows.map(\.path))
            var topLevel: [LitefileEntry] = []
            var children: [LitefileEntry] = []
            for row in rows {
                let parent = LitefileTable.ancestorDirectories(of: row.path).last { entryPaths.contains($0) }
                var sources = trees.map { tree in (tree.mountPoint == "/" ? "" : tree.mountPoint) + row.path }
                sources.append("/.default" + row.path)
                // The image's own copy last, for images liteimg never prepared (no /.default copy). For link kinds
                // liteimg replaced it by a symlink into /.statelite/tmpfs, which the init must not follow.
                sources.append(row.path)
                let entry = LitefileEntry(
                    path: row.path, isDirectory: row.path.endsWith("/"), option: row.option,
                    optionSpelling: row.optionSpelling, parent: parent, sources: sources,
                    usesAllSources: row.option == .concatenate || row.option == .linkConcatenate,
                    origin: row.line == 0 ? "added: xCAT adds /etc/mtab as link" : "\(table.name):\(row.line)")
                if parent == nil { topLevel.append(entry) } else { children.append(entry) }
            }
            entries = topLevel + children
        }

        let enabled =
            spec.statemntPresent || spec.xcatServer != nil || root.syntax == "NFSROOT" || !entries.isEmpty
            || statemnt != nil
        if enabled && statemnt == nil
            && entries.contains(where: { $0.option == .persistent || $0.option == .linkPersistent })
        {
            warnings.append("persistent litefile entries without a STATEMNT server are kept in RAM only")
        }
        let localDisk = nodeinit.localDisk.map { LocalDiskPlan(device: $0) }
        if localDisk == nil && entries.contains(where: { $0.option == .localdisk }) {
            warnings.append(
                "localdisk entries but no local disk (nodeinit.localdisk=<devspec>; xCAT: PARTITION_RH): they are kept in RAM and lost at reboot"
            )
        }
        let xcatd = spec.xcatd.map { xcat in
            XcatdPlan(
                server: xcat.server, serverIsAddress: xcat.isAddress, port: xcat.port, caPath: spec.xcatdCA,
                serverName: spec.xcatdName ?? (xcat.isAddress ? nil : xcat.server))
        }
        return StatelitePlan(
            enabled: enabled || localDisk != nil, xcatServer: spec.xcatServer, statemnt: statemnt, treeMounts: trees,
            entries: entries, localDisk: localDisk, xcatd: xcatd)
    }

    // MARK: - Modules

    static func planModules(
        _ spec: ModuleSpec, nodeinit: NodeinitSpec, root: RootPlan, overlay: OverlayPlan, statelite: StatelitePlan,
        network: NetworkPlan, warnings: inout [String]
    ) -> ModulePlan {
        var wanted: [(String, String)] = spec.preload.map { ($0, "rd.driver.pre") }
        wanted += nodeinit.modules.map { ($0, "nodeinit.modules") }
        let attempts = root.attempts + (statelite.statemnt?.attempts ?? []) + statelite.treeMounts.flatMap(\.attempts)
        wanted.append(("nfs", KernelModule.nfsRootReason))
        if attempts.contains(where: { $0.version == "3" }) { wanted.append(("nfsv3", KernelModule.nfsRootReason)) }
        if attempts.contains(where: { $0.version != "3" }) { wanted.append(("nfsv4", KernelModule.nfsRootReason)) }
        switch overlay {
        case .none: break
        case .tmpfs, .device: wanted.append(("overlay", "overlay"))
        case .waltInit:
            // walt-init's modprobe reads the image's /lib/modules, which a minimal image lacks: it finds them loaded.
            wanted.append(("overlay", "walt-init overlay"))
            wanted.append(("nfsv3", "walt-init /persist (NFSv3)"))
        }
        // The drivers of the planned bonds, VLANs and bridges (dracut's ifup.sh modprobes them the same way).
        for (kind, module) in [(VirtualLink.Kind.bond, "bonding"), (.vlan, "8021q"), (.bridge, "bridge")] {
            if network.links.contains(where: { $0.kind == kind }) { wanted.append((module, "\(kind.rawValue)=")) }
        }
        wanted += spec.postload.map { ($0, "rd.driver.post") }

        // The bonding driver makes a bond0 of its own when loaded (max_bonds defaults to 1); the init makes the
        // planned bonds itself, so none is wanted unless the command line says otherwise.
        var moduleParameters = spec.parameters
        if wanted.contains(where: { $0.0 == "bonding" }),
            !moduleParameters.contains(where: { $0.module == "bonding" && $0.name == "max_bonds" })
        {
            moduleParameters.append(ModuleParameter(module: "bonding", name: "max_bonds", value: "0"))
        }
        var load: [KernelModule] = []
        var seen: Set<String> = []
        for (name, reason) in wanted where !seen.contains(name) {
            seen.insert(name)
            if spec.blacklist.contains(name) {
                warnings.append("module \(name) is blacklisted; not loading it (needed for: \(reason))")
                continue
            }
            let parameters = moduleParameters.filter { $0.module == name }.map { parameter -> String in
                if parameter.value.isEmpty { return parameter.name }
                let quoted = parameter.value.unicodeScalars.contains { $0.isASCIIWhitespace }
                return quoted ? "\(parameter.name)=\"\(parameter.value)\"" : "\(parameter.name)=\(parameter.value)"
            }
            load.append(KernelModule(name: name, parameters: parameters, reason: reason))
        }
        return ModulePlan(load: load, blacklist: spec.blacklist, parameters: moduleParameters)
    }

    // MARK: - Steps

    static func steps(for plan: BootPlan) -> [BootStep] {
        var steps: [BootStep] = [.mountKernelFilesystems]
        func pause(_ point: ShellPoint) {
            if plan.debug.pauses.contains(point) { steps.append(.pause(point: point)) }
        }
        pause(.beforeModules)
        steps.append(.loadModules(names: plan.modules.load.map(\.name)))
        steps.append(.loadDeviceDrivers)
        pause(.beforeNetwork)
        steps.append(.configureNetwork)
        steps.append(.planFromLease)
        pause(.beforeRootMount)
        steps.append(.mountRoot)
        pause(.afterRootMount)
        switch plan.overlay {
        case .none, .waltInit:
            break
        case .tmpfs:
            steps.append(.mountOverlayTmpfs)
            steps.append(.mountOverlay)
        case .device(let device):
            steps.append(.mountOverlayDevice)
            if device.readOnly { steps.append(.mountOverlayTmpfs) }
            steps.append(.mountOverlay)
        }
        pause(.afterOverlay)
        steps.append(.loadTables)
        if plan.statelite.xcatd != nil { steps.append(.fetchXcatdTables) }
        if plan.statelite.enabled {
            steps.append(.mountStateliteTmpfs)
            if plan.statelite.statemnt != nil { steps.append(.mountStatemnt) }
            if plan.statelite.localDisk != nil { steps.append(.mountLocalDisk) }
        }
        if plan.statelite.enabled { pause(.afterStatemnt) }
        if plan.statelite.enabled {
            // Every tree, by priority: a server's is mounted, an image directory opened in place.
            for index in plan.statelite.treeMounts.indices {
                steps.append(.mountLitetree(index: index))
            }
            for (index, entry) in plan.statelite.entries.enumerated() {
                steps.append(.applyLitefile(index: index, path: entry.path))
            }
            steps.append(.linkMtab)
        }
        if plan.statelite.enabled { pause(.afterStatelite) }
        if let port = plan.agent.port { steps.append(.startAgent(port: port)) }
        if case .waltInit = plan.overlay {} else { steps.append(.prepareShutdown) }
        pause(.beforeSwitchRoot)
        steps.append(.switchRoot)
        return steps
    }
}
