/// Everything the init will do at boot, decided from the kernel command line and the xCAT tables, with no I/O.
/// The same inputs always give the same plan (`BootPlanner.plan`). `steps` lists the actions in the order the init
/// takes them; the other fields carry each action's parameters.
///
/// Paths under "the new root" (litefile, statelite) are relative to `switchRoot.newRoot`, as seen after switch_root.
public struct BootPlan: Codable, Equatable, Sendable {
    /// The osimage name (`nodeinit.image=` or `nodeinit plan --image`); selects table rows and is stamped into a
    /// persistent overlay so a different image can be detected. Nil when not given.
    public var image: String?
    /// The node's name: `NODE=`, else the host name field of a static `ip=`, else the runtime host name passed to
    /// the planner. Nil when not yet known (the init re-plans once DHCP gave a host name).
    public var nodeName: String?
    /// Kernel modules the init loads itself, in order, with their parameters.
    public var modules: ModulePlan
    /// How the node gets on the network.
    public var network: NetworkPlan
    /// The read-only NFS root (the overlay's lower layer).
    public var root: RootPlan
    /// The writable layer over the root, or `.none`.
    public var overlay: OverlayPlan
    /// xCAT statelite: persistent store, litetree mounts, litefile entries. `enabled` false when not used.
    public var statelite: StatelitePlan
    /// Where the init finds the xCAT tables at boot (before it has them).
    public var tables: TableLocations
    /// Debug pauses, failure policy, timeouts.
    public var debug: DebugPlan
    /// The node-save agent left running after switch_root.
    public var agent: AgentPlan
    /// Paths the node-save capture leaves out (`nodeinit.save.exclude=`), absolute, sorted, no duplicates.
    public var saveExclude: [String]
    /// The final hand-over.
    public var switchRoot: SwitchRootPlan
    /// Every action in order. The init walks this list; a refining step (`planFromLease`, `loadTables`) replaces the
    /// plan with one planned again from what it learnt, and the walk goes on after that step in the new list.
    public var steps: [BootStep]
    /// Non-fatal findings: near-miss parameter names, deprecated spellings, ignored values.
    public var warnings: [String]
    /// WalT's parameters (`boot=walt`, `walt.*`); nil when the command line has none.
    public var walt: WaltPlan? = nil
    /// The NFSv4 client identity (uniquifier) the init sets before the first mount.
    public var nfsClientIdentity: NFSClientIdentity = .bootInterfaceMAC
}

// MARK: - NFSv4 client identity

/// What makes this node's NFSv4 client distinct from every other node's. The kernel's NFSv4.1+ client owner is
/// `Linux NFSv4.1 <host name>` plus this uniquifier: with no host name (a DHCP server that sends none) and no
/// uniquifier, every node presents the same owner and the server takes them for one client, whose sessions and state
/// they then trample. Set in `nfs.nfs4_unique_id` (a module parameter, global to the kernel), so the booted system's
/// own later NFSv4 mounts use it too.
public enum NFSClientIdentity: Codable, Equatable, Sendable {
    /// `nfs.nfs4_unique_id=` on the command line: the kernel takes it as the module parameter; nodeinit leaves it.
    case commandLine(String)
    /// `nodeinit-<boot interface MAC, hex>`: per machine, stable across reboots, known once the network is up.
    case bootInterfaceMAC

    /// The uniquifier for a boot interface's MAC address.
    public static func uniquifier(mac: MACAddress) -> String {
        "nodeinit-" + mac.description.split(separator: ":").joined()
    }
}

// MARK: - WalT

/// What a WalT server's boot files pass (walt-images: `start-generic-nfs*.ipxe`, `compute-bootargs.sh`): kept for the
/// image's walt-init, which reads them from /proc/cmdline, and used by nodeinit where they mean something to it.
public struct WaltPlan: Codable, Equatable, Sendable {
    /// `boot=walt`: the node boots the WalT way (root=/dev/nfs is NFSv3, as WalT's nfsmount).
    public var boot: Bool
    /// `walt.server.ip=`: the WalT server, allowed to pull node saves by default (with the NFS root server).
    public var serverAddress: IPAddress?
    /// `walt.node.model=`.
    public var nodeModel: String?
    /// Every `walt.<name>=<value>` in command-line order (the two above included).
    public var parameters: [WaltParameter]
}

public struct WaltParameter: Codable, Equatable, Sendable {
    /// The name after `walt.`.
    public var name: String
    public var value: String
}

// MARK: - Modules

public struct ModulePlan: Codable, Equatable, Sendable {
    /// Modules to load, in order: `rd.driver.pre=`, `nodeinit.modules=`, then what the plan needs (`nfs`, `nfsv3`
    /// and/or `nfsv4`, `overlay`). Dependencies come from modules.dep at run time. Already built-in modules are fine.
    public var load: [KernelModule]
    /// `rd.driver.blacklist=` and `modprobe.blacklist=`: never load these (names normalized with `_`), sorted.
    public var blacklist: [String]
    /// Every `module.param=value` on the command line (module and parameter names normalized with `_`), in
    /// command-line order; the init passes them when it loads that module, including drivers loaded by modalias.
    public var parameters: [ModuleParameter]
}

public struct KernelModule: Codable, Equatable, Sendable {
    /// Module name with `-` normalized to `_`.
    public var name: String
    /// `param=value` strings for this module from the command line, in order (the init_module option string
    /// is these joined by spaces).
    public var parameters: [String]
    /// Why it is loaded: `rd.driver.pre`, `nodeinit.modules`, `nfs root`, `overlay`.
    public var reason: String

    /// The reason of the NFS modules the root mount needs (the init loads each version's module when it tries it).
    public static let nfsRootReason = "nfs root"
}

public struct ModuleParameter: Codable, Equatable, Sendable {
    /// Module name, `-` normalized to `_`.
    public var module: String
    /// Parameter name, `-` normalized to `_`.
    public var name: String
    /// The value (empty for a bare `module.flag`, which the kernel treats as a boolean true).
    public var value: String
}

// MARK: - Network

public struct NetworkPlan: Codable, Equatable, Sendable {
    /// `BOOTIF=`: the MAC the node PXE-booted from.
    public var bootMAC: MACAddress?
    /// `ifname=<name>:<mac>`: rename the interface with that MAC to that name before configuring, in order.
    public var interfaceNames: [InterfaceName]
    /// Interfaces to configure, in order. Without any `ip=` this is one DHCP entry selecting the boot interface.
    /// The first is the boot interface (the one `bootdev=` names, else the first `ip=`): the root server, the DNS
    /// servers and the default route come from it; the others are configured after it, without a default route.
    public var interfaces: [InterfaceConfig]
    /// `nameserver=` values in order, then DNS servers from static `ip=` fields; DHCP may add more at run time.
    public var nameservers: [IPAddress]
    /// `rd.peerdns=0`: ignore DNS servers offered by DHCP.
    public var ignoreDHCPNameservers: Bool
    /// `rd.route=` static routes, in order.
    public var routes: [Route]
    /// True: the network must come up (always true with an NFS root; `rd.neednet` is recorded here too).
    public var required: Bool
    /// Bonds, VLANs and bridges (`bond=`, `vlan=`, `bridge=`) to create before any address is configured, in
    /// creation order: every link comes after the links it is built on (a VLAN over a bond after the bond).
    public var links: [VirtualLink] = []
}

/// A link the init creates over rtnetlink (dracut's `bond=`, `vlan=`, `bridge=`).
public struct VirtualLink: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Equatable, Sendable {
        /// The bonding driver (`bond=`): `lowerLinks` are the slaves.
        case bond
        /// An 802.1Q VLAN (`vlan=`): `lowerLinks` is the one parent device.
        case vlan
        /// A bridge (`bridge=`): `lowerLinks` are the ports.
        case bridge
    }

    public var kind: Kind
    /// The new interface's name.
    public var name: String
    /// Bond slaves, bridge ports, or the VLAN's parent, in the order given.
    public var lowerLinks: [String]
    /// The VLAN id (1...4094), from the VLAN's name; nil for other kinds.
    public var vlanID: Int?
    /// The bond's mode and options; nil for other kinds.
    public var bond: BondSettings?
    /// `bond=...:<mtu>`: set on the bond after its slaves are enslaved.
    public var mtu: Int?
    /// The parameter it came from (`bond=...`), or `bond (default)` for a bare `bond`.
    public var origin: String

    public init(
        kind: Kind, name: String, lowerLinks: [String], vlanID: Int? = nil, bond: BondSettings? = nil, mtu: Int? = nil,
        origin: String
    ) {
        self.kind = kind
        self.name = name
        self.lowerLinks = lowerLinks
        self.vlanID = vlanID
        self.bond = bond
        self.mtu = mtu
        self.origin = origin
    }
}

/// The bonding driver's modes (Documentation/networking/bonding.rst), with the numbers the kernel uses.
public enum BondMode: String, Codable, Equatable, Sendable, CaseIterable {
    case balanceRR = "balance-rr"
    case activeBackup = "active-backup"
    case balanceXOR = "balance-xor"
    case broadcast = "broadcast"
    case ieee8023ad = "802.3ad"
    case balanceTLB = "balance-tlb"
    case balanceALB = "balance-alb"

    /// BOND_MODE_* (IFLA_BOND_MODE).
    public var kernelValue: UInt8 {
        switch self {
        case .balanceRR: 0
        case .activeBackup: 1
        case .balanceXOR: 2
        case .broadcast: 3
        case .ieee8023ad: 4
        case .balanceTLB: 5
        case .balanceALB: 6
        }
    }
}

public struct BondSettings: Codable, Equatable, Sendable {
    /// `mode=` (name or number), default balance-rr as dracut's bare `bond`.
    public var mode: BondMode
    /// The other options, in the order given, validated; each is applied at creation, except `primary` and
    /// `active_slave`, which name a slave and are applied once it is enslaved.
    public var options: [BondOption]

    public init(mode: BondMode, options: [BondOption] = []) {
        self.mode = mode
        self.options = options
    }
}

/// One bonding option as sysfs (`/sys/class/net/<bond>/bonding/<name>`) names it, with its value resolved to what
/// the kernel stores (`lacp_rate=fast` is 1).
public struct BondOption: Codable, Equatable, Sendable {
    /// The sysfs name (`miimon`, `xmit_hash_policy`, ...); `num_unsol_na` is recorded as `num_grat_arp`, its alias.
    public var name: String
    /// The value as the kernel stores it, for numeric and named values; 0 for the kinds below.
    public var number: UInt32
    /// `arp_ip_target`: the IPv4 targets (up to 16).
    public var addresses: [IPAddress]
    /// `primary`, `active_slave`: a slave's name.
    public var interface: String?
    /// `ad_actor_system`: a MAC address.
    public var mac: MACAddress?
    /// The value as written.
    public var text: String

    public init(
        name: String, number: UInt32 = 0, addresses: [IPAddress] = [], interface: String? = nil,
        mac: MACAddress? = nil, text: String
    ) {
        self.name = name
        self.number = number
        self.addresses = addresses
        self.interface = interface
        self.mac = mac
        self.text = text
    }
}

public struct InterfaceName: Codable, Equatable, Sendable {
    public var name: String
    public var mac: MACAddress
}

/// Which interface(s) a configuration applies to.
public enum InterfaceSelector: Codable, Equatable, Sendable {
    /// The interface with this name (from `ip=...:<if>:...`, `netdev=`, `bootdev=`).
    case name(String)
    /// The interface with this MAC (from `BOOTIF=`).
    case mac(MACAddress)
    /// Every interface with a carrier; the first to get a lease wins (dracut `ip=dhcp` without BOOTIF).
    case anyWithCarrier
}

/// How an interface gets its address.
public enum AddressMethod: Codable, Equatable, Sendable {
    /// DHCPv4 (`dhcp`, `on`, `any`, and empty autoconf).
    case dhcp
    /// DHCPv6 (`dhcp6`).
    case dhcp6
    /// IPv6 stateless autoconfiguration (`auto6`).
    case auto6
    /// IPv6 link-local only (`link6`).
    case link6
    /// DHCPv4 or SLAAC, whichever answers (`either6`).
    case either6
    /// Fixed configuration (`none`/`off` with an address).
    case `static`(StaticAddress)
    /// Leave the interface as the kernel left it (`ip=off`/`ip=none` alone).
    case unmanaged
}

public struct StaticAddress: Codable, Equatable, Sendable {
    public var address: IPAddress
    public var prefixLength: Int
    /// Default gateway, if any.
    public var gateway: IPAddress?
    /// The `<peer>`/server field (kernel: NFS server); used as the NFS server when the root names none.
    public var peer: IPAddress?
}

public struct InterfaceConfig: Codable, Equatable, Sendable {
    public var selector: InterfaceSelector
    public var method: AddressMethod
    /// Host name from the `ip=` field, if any.
    public var hostname: String?
    public var mtu: Int?
    /// MAC address to set on the interface (dracut `ip=<if>:dhcp::<mac>`).
    public var mac: MACAddress?
    /// The parameter text it came from (`ip=...`), or `default` when no `ip=` was given.
    public var origin: String
}

public struct Route: Codable, Equatable, Sendable {
    public var destination: IPNetwork
    /// Nil: an on-link route (`rd.route=<net>::<interface>`), link-scoped on the interface.
    public var gateway: IPAddress?
    public var interface: String?
}

// MARK: - Root

/// The NFS root, mounted read-only.
public struct RootPlan: Codable, Equatable, Sendable {
    /// Which syntax gave it: `NFSROOT` (xCAT legacy), `root=nfs:`, `root=nfs4:`, `root=nfs://`, `nfsroot`
    /// (kernel `root=/dev/nfs nfsroot=`).
    public var syntax: String
    /// Server as written (host name or IP literal without brackets). Nil: take it from the static `ip=` peer,
    /// else DHCP next-server, else the DHCP server identifier (dracut's order).
    public var server: String?
    /// True when `server` is an IP literal (no DNS needed).
    public var serverIsAddress: Bool
    /// Export path to mount. For `NFSROOT=` this already ends in `/rootimg`. May still contain `%s` when
    /// `hostnameSubstitution` is true.
    public var path: String
    /// True when `path` contains `%s` to be replaced at run time by the host name (or the IP if there is none).
    public var hostnameSubstitution: Bool
    /// NFS versions to try, in order, e.g. `["4.2", "4.1", "3"]`, or just the requested one.
    public var versions: [String]
    /// One mount(2) attempt per version, in the same order.
    public var attempts: [NFSMountAttempt]
    /// Where the root is mounted (the overlay's lower dir when there is an overlay, else `switchRoot.newRoot`).
    public var mountPoint: String
    /// `root=dhcp` (or `root=/dev/nfs` without `nfsroot=`): the DHCP root-path the server and path came from; nil
    /// before the lease (then `server` is nil and `path` empty, and the init plans again with the lease's
    /// root-path); empty when the lease had none and `rootPathFallback` gave the path.
    public var dhcpRootPath: String?
    /// `root=/dev/nfs` or `root=/dev/nfs4` without `nfsroot=`: the path used when the lease has no root-path
    /// (the kernel's `/tftpboot/%s`); nil for every other form.
    public var rootPathFallback: String? = nil
    /// The readahead set on the mounted root (KiB), nil to leave the kernel's 128 KiB: `nodeinit.nfs.readahead=`,
    /// else `defaultImageReadaheadKiB` for an image root (`nodeinit.nfs.rootcache=image`).
    public var readaheadKiB: Int? = nil

    /// Debian 12 to multi-user (one boot each): 128 KiB (the kernel's) 673 READs and 28.8 MiB read, 256 KiB 562 and
    /// 32.2 MiB, 512 KiB 488 and 34.6 MiB, 1024 KiB 459 and 37.6 MiB, 4096 KiB 454. 512 is the knee: past it each
    /// READ saved costs 100 KiB read for nothing, which a site pays for each of its nodes.
    public static let defaultImageReadaheadKiB = 512

    /// True before the DHCP root-path is known, for `root=dhcp` and for `root=/dev/nfs` without `nfsroot=`.
    public var awaitsDHCPRootPath: Bool { (syntax == "root=dhcp" || rootPathFallback != nil) && dhcpRootPath == nil }
}

/// One mount(2) call: `mount("<server>:<path>", target, fsType, MS_RDONLY?, options + ",addr=<resolved server>")`.
public struct NFSMountAttempt: Codable, Equatable, Sendable {
    /// `3`, `4`, `4.0`, `4.1`, `4.2`.
    public var version: String
    /// `nfs` for v3, `nfs4` for v4.x.
    public var fsType: String
    /// The exact option string, without `addr=`, which the init appends after resolving the
    /// server: e.g. `vers=3,ro,nolock,nocto`.
    public var options: String
    /// True when mounted with MS_RDONLY.
    public var readOnly: Bool
}

// MARK: - Overlay

public enum OverlayPlan: Codable, Equatable, Sendable {
    /// No overlay: the NFS root is the new root, read-only (xCAT statelite without overlay: `rd.overlay=0`).
    case none
    /// Upper and work dirs on a fresh tmpfs: gone at reboot.
    case tmpfs(TmpfsOverlay)
    /// Upper and work dirs on a local device: persists.
    case device(DeviceOverlay)
    /// The image's `init=` is WalT's walt-init, which builds WalT's own overlay (a RAM upper, or a hybrid one on a
    /// local disk) over the read-only root it is handed. nodeinit mounts none of its own: two would stack, and node
    /// save would capture the one that holds nothing.
    case waltInit(WaltInitOverlay)
}

/// What nodeinit knows of an overlay walt-init builds after switch_root (see `WaltLayout`).
public struct WaltInitOverlay: Codable, Equatable, Sendable {
    /// The walt-init that builds it (`init=`).
    public var initPath: String
    /// Where node save finds the upper after walt-init ran: WalT's network-mode upper, or the hybrid `diff` named by
    /// `walt_boot_mode` and `walt_image_id` in `environmentFile`, resolved at each capture.
    public var networkUpper: String
    public var environmentFile: String
}

/// Mount points and options common to every overlay.
public struct OverlayMounts: Codable, Equatable, Sendable {
    /// Where the NFS root is mounted as the lower layer.
    public var lowerDir: String
    /// Upper dir (captured by node save).
    public var upperDir: String
    /// overlayfs work dir (same file system as upperDir).
    public var workDir: String
    /// Where the overlay is mounted (= `switchRoot.newRoot`).
    public var target: String
    /// The exact overlay mount options besides lowerdir/upperdir/workdir, e.g.
    /// `redirect_dir=off,metacopy=off,index=off,xino=off` (keeps the upper capturable and NFS-lower-safe).
    public var options: String
}

public struct TmpfsOverlay: Codable, Equatable, Sendable {
    /// tmpfs `size=` as given (`50%`, `2G`, bytes), nil for the kernel default (half of RAM).
    public var size: String?
    /// tmpfs `nr_inodes=` as given, nil for the default.
    public var nrInodes: String?
    /// tmpfs `nr_blocks=` (the limit in pages) as given; nil when `size=` (or nothing) sets the limit.
    public var nrBlocks: String? = nil
    /// Where the tmpfs is mounted; upperDir and workDir are inside it.
    public var tmpfsMountPoint: String
    public var mounts: OverlayMounts
}

public struct DeviceOverlay: Codable, Equatable, Sendable {
    /// The backing device.
    public var device: DeviceSpec
    /// Path on the device as given (`rd.overlay=<dev>:<path>`), nil for the default layout (`/overlay` upper and
    /// `/ovlwork` work at the device's top). If it names a regular file at run time, it is a file-system image
    /// holding `overlayfs/` and `ovlwork/` (dracut's live layout) and is loop-mounted.
    public var path: String?
    /// Where the device is mounted.
    public var deviceMountPoint: String
    /// `rd.overlay.reset`: empty the upper dir before use.
    public var reset: Bool
    /// `rd.overlay.readonly`: the persistent upper becomes a second lower, and a tmpfs takes the writes.
    public var readOnly: Bool
    /// `nodeinit.overlay.mismatch=`: what to do when the upper was written over a different image.
    public var mismatchPolicy: OverlayMismatchPolicy
    /// `nodeinit.overlay.required`: fail (instead of falling back to tmpfs) when the device does not appear
    /// within `debug.deviceTimeoutSeconds` or cannot be mounted.
    public var required: Bool
    public var mounts: OverlayMounts
}

public enum OverlayMismatchPolicy: String, Codable, Equatable, Sendable {
    /// Keep the persistent upper untouched and boot with a tmpfs upper instead (logged loudly). The default.
    case tmpfs
    /// Empty the persistent upper and use it for the new image.
    case reset
    /// Stop the boot (failure policy applies).
    case fail
}

// MARK: - Statelite

public struct StatelitePlan: Codable, Equatable, Sendable {
    /// True when the node boots in xCAT statelite mode: `STATEMNT=` present (even empty), `XCAT=` present,
    /// `NFSROOT=` used, `nodeinit.localdisk=` given, or a litefile given.
    public var enabled: Bool
    /// `XCAT=host:port` (the xcatd the image's scripts talk to), as given.
    public var xcatServer: String?
    /// The persistent store mount, nil when `STATEMNT=` is empty or absent (then `persistent` entries live in RAM,
    /// and a warning says so).
    public var statemnt: StatemntPlan?
    /// Read-only litetree mounts, in priority order (only entries with a server are mounted).
    public var treeMounts: [LitetreeMount]
    /// litefile entries in processing order: top-level entries sorted by path, then children sorted by path.
    public var entries: [LitefileEntry]
    /// `nodeinit.localdisk=`: the local file system `localdisk` entries live on; nil when none is named (then
    /// those entries are kept in RAM, and a warning says so).
    public var localDisk: LocalDiskPlan? = nil
    /// `XCAT=`: where the litefile and litetree tables come from when neither the command line nor the image
    /// holds them (`fetchXcatdTables`).
    public var xcatd: XcatdPlan? = nil
}

/// Asking xcatd for the node's litefile and litetree over TLS, as xCAT's `rc.statelite` does at boot (`openssl
/// s_client -connect XCAT`), but checking xcatd's certificate when a CA is available.
public struct XcatdPlan: Codable, Equatable, Sendable {
    /// `XCAT=`'s host: an address, or a name resolved with the lease's DNS servers.
    public var server: String
    public var serverIsAddress: Bool
    public var port: Int
    /// `nodeinit.xcatd_ca=`: the CA file in the image; it must exist and must verify xcatd. nil: the first of
    /// `caCandidates` the image holds, else the session is unverified (said loudly).
    public var caPath: String?
    /// The name xcatd's certificate must carry: `nodeinit.xcatd_name=`, else the `XCAT=` host when it is a name;
    /// nil (an address): the chain alone is checked, as xCAT's certificates name hosts, not addresses.
    public var serverName: String?
    /// Connections tried before giving up: xCAT's `MAX_RETRIES=15`.
    public var attempts: Int
    /// The pause between two attempts is random in 0...`maxPauseSeconds` s: xCAT's `sleep $RANDOM%50`.
    public var maxPauseSeconds: Int
    /// Each wait for xcatd (connect, handshake, the next bytes of the reply).
    public var timeoutSeconds: Int

    /// Where xCAT puts its CA: `/xcatpost/_xcat/ca.pem` in an image (packimage copies the postscripts, whose
    /// `_xcat/ca.pem` xcatconfig writes), `/etc/xcat/cert/ca.pem` and `/etc/xcat/ca/ca-cert.pem` on a management or
    /// service node, `/root/.xcat/ca.pem` for root's xCAT client.
    public static let caCandidates = [
        "/xcatpost/_xcat/ca.pem", "/etc/xcat/cert/ca.pem", "/etc/xcat/ca/ca-cert.pem", "/root/.xcat/ca.pem",
    ]

    public init(
        server: String, serverIsAddress: Bool, port: Int, caPath: String? = nil, serverName: String? = nil,
        attempts: Int = 15, maxPauseSeconds: Int = 49, timeoutSeconds: Int = 30
    ) {
        self.server = server
        self.serverIsAddress = serverIsAddress
        self.port = port
        self.caPath = caPath
        self.serverName = serverName
        self.attempts = attempts
        self.maxPauseSeconds = maxPauseSeconds
        self.timeoutSeconds = timeoutSeconds
    }

    /// `host:port` as shown in messages (IPv6 in brackets).
    public var endpoint: String { (server.contains(":") ? "[\(server)]" : server) + ":\(port)" }
}

/// The node's local disk for xCAT `localdisk` entries (what xCAT's rc.localdisk mounts after partitioning it from
/// xcatd's layout). nodeinit does not partition or format: the device must already carry a file system.
public struct LocalDiskPlan: Codable, Equatable, Sendable {
    /// The device (`nodeinit.localdisk=<devspec>`), found with libblkid, waiting up to `debug.deviceTimeoutSeconds`.
    public var device: DeviceSpec
    /// Where it is mounted read-write, in the new root: `/.sllocal/localmnt` (xCAT's `[localspace]`).
    public var mountPoint: String
    /// The tmpfs xCAT's rc.localdisk always mounts for its log, in the new root: `/.sllocal/log`.
    public var logMountPoint: String

    public init(device: DeviceSpec, mountPoint: String = "/.sllocal/localmnt", logMountPoint: String = "/.sllocal/log")
    {
        self.device = device
        self.mountPoint = mountPoint
        self.logMountPoint = logMountPoint
    }
}

public struct StatemntPlan: Codable, Equatable, Sendable {
    public var server: String
    public var serverIsAddress: Bool
    /// Export directory (after `$` variable substitution), e.g. `/gpfs/state`.
    public var path: String
    /// The per-node subdirectory created and mounted: `path/<node>`. Contains `%n` (replace by node name) when
    /// the node name is not yet known.
    public var nodePath: String
    /// Where it is mounted, in the new root: `/.statelite/persistent`.
    public var mountPoint: String
    /// One attempt per NFS version (read-write; MNTOPTS or the default `nolock,rsize=32768,tcp,timeo=14`).
    public var attempts: [NFSMountAttempt]
    /// Where the value came from: `STATEMNT` or `statelite table line N`.
    public var origin: String
}

public struct LitetreeMount: Codable, Equatable, Sendable {
    /// The table's priority text (smaller is searched first).
    public var priority: String
    /// Server, nil for a directory inside the image (searched in place, never mounted).
    public var server: String?
    /// Directory after `$` substitution.
    public var directory: String
    /// Where the tree is visible in the new root: `/.statelite/mnt/<server><directory>` or `directory` itself.
    public var mountPoint: String
    /// Read-only attempts (empty for image directories). Honours the row's mntopts (xCAT drops them).
    public var attempts: [NFSMountAttempt]
}

/// The normalized meaning of a litefile option (xCAT `rc.statelite` `ProcessType`).
public enum LitefileOption: String, Codable, Equatable, Sendable {
    /// blank, `link`, `tmpfs,rw`: copy to `/.statelite/tmpfs/PATH`; the image's symlink points there.
    case link
    /// `tmpfs`, `rw`, `bind` (old name): copy to `/.statelite/tmpfs/PATH` and bind-mount it over `/PATH`.
    case tmpfs
    /// `persistent`, `bind,persistent` (old name): seed once into the persistent store, bind-mount over `/PATH`.
    case persistent
    /// `link,persistent`: seed once, symlink `/.statelite/tmpfs/PATH` to the persistent copy.
    case linkPersistent
    /// `ro`: bind-mount the source read-only over `/PATH` (live from the litetree NFS).
    case readOnly
    /// `link,ro`: symlink `/.statelite/tmpfs/PATH` to the source.
    case linkReadOnly
    /// `con`: concatenate every tree's copy into `/.statelite/tmpfs/PATH`, bind over `/PATH`.
    case concatenate
    /// `link,con`: concatenate into `/.statelite/tmpfs/PATH`; the image's symlink exposes it.
    case linkConcatenate
    /// `localdisk`: copy to `/.sllocal/localmnt/PATH` if absent, bind over `/PATH`.
    case localdisk

    /// True for the symlink-based kinds (liteimg made `/PATH` a symlink into `/.statelite/tmpfs`).
    public var isLinkKind: Bool {
        switch self {
        case .link, .linkPersistent, .linkReadOnly, .linkConcatenate: return true
        default: return false
        }
    }

    /// True for the kinds whose option names `persistent` (`persistent`, `bind,persistent`, `link,persistent`):
    /// liteimg lets only these below a directory of such a kind.
    public var isPersistentKind: Bool { self == .persistent || self == .linkPersistent }
}

public struct LitefileEntry: Codable, Equatable, Sendable {
    /// Absolute path in the image; directories end in `/`.
    public var path: String
    public var isDirectory: Bool
    public var option: LitefileOption
    /// The option as written in the table (`""` for blank, `bind`, `tmpfs,rw`...), for display.
    public var optionSpelling: String
    /// The closest ancestor directory that is itself an entry, nil for a top-level entry.
    public var parent: String?
    /// Candidate sources in search order, paths in the new root: each litetree tree (`<mountPoint><path>`) by
    /// priority, then `/.default<path>` (liteimg's copy), then `<path>` itself (the image's own copy, for images
    /// liteimg did not prepare; skip it when it is a symlink into `/.statelite`). An empty directory counts as not found.
    public var sources: [String]
    /// True for `con`/`link,con`: every found source is used (concatenated), not just the first.
    public var usesAllSources: Bool
    /// The table and line it came from (`litefile line 7`, or `added: /etc/mtab` as xCAT adds it).
    public var origin: String
}

// MARK: - Tables

/// Where a table is read from at boot.
public enum TableLocation: Codable, Equatable, Sendable, CustomStringConvertible {
    /// A file inside the NFS root image (absolute path in the image).
    case image(path: String)
    /// A file read over NFS without a kernel mount (libnfs), `nfs://server/path`.
    case nfs(server: String, path: String)

    public var description: String {
        switch self {
        case .image(let path): return path
        case .nfs(let server, let path): return "nfs://\(server)\(path)"
        }
    }
}

public struct TableLocations: Codable, Equatable, Sendable {
    /// `nodeinit.litefile=`.
    public var litefile: TableLocation?
    /// `nodeinit.litetree=`.
    public var litetree: TableLocation?
    /// `nodeinit.statelite=`.
    public var statelite: TableLocation?
}

// MARK: - Debug

/// Points where the init can stop in a shell (exiting the shell continues the boot), in boot order.
public enum ShellPoint: String, Codable, Equatable, Sendable, CaseIterable, Comparable {
    /// After reading the command line, before loading modules (`rd.break=cmdline|pre-udev|pre-trigger`).
    case beforeModules = "before-modules"
    /// Before bringing up the network (`rd.break=initqueue`).
    case beforeNetwork = "before-network"
    /// Before mounting the root (`rd.break=pre-mount|mount`).
    case beforeRootMount = "before-root-mount"
    /// Root mounted, nothing on top yet (`rd.break=pre-pivot`; xCAT `shell` pause 1).
    case afterRootMount = "after-root-mount"
    /// Overlay mounted.
    case afterOverlay = "after-overlay"
    /// STATEMNT mounted (xCAT `shell` pause 2).
    case afterStatemnt = "after-statemnt"
    /// litefile entries applied (xCAT `shell` pause 3).
    case afterStatelite = "after-statelite"
    /// Just before switch_root (`rd.break` bare, `rd.break=cleanup`; xCAT `shell` pause 4).
    case beforeSwitchRoot = "before-switch-root"

    public static func < (lhs: ShellPoint, rhs: ShellPoint) -> Bool {
        let order = ShellPoint.allCases
        return (order.firstIndex(of: lhs) ?? 0) < (order.firstIndex(of: rhs) ?? 0)
    }
}

public enum EmergencyAction: String, Codable, Equatable, Sendable {
    case reboot, poweroff, halt
}

public struct DebugPlan: Codable, Equatable, Sendable {
    /// Where to pause in a shell, sorted in boot order, no duplicates.
    public var pauses: [ShellPoint]
    /// On a fatal error: open a shell first (`rd.shell`, or xCAT's bare `shell`; default off).
    public var shellOnFailure: Bool
    /// After a fatal error (and the shell, if any): `rd.emergency=`, default `reboot` after a visible countdown.
    public var emergencyAction: EmergencyAction
    /// `rd.retry=`: seconds to keep retrying the network and root mount, default 180.
    public var retrySeconds: Int
    /// `rd.timeout=`: seconds to wait for a device (overlay device), 0 = forever (dracut's default).
    public var deviceTimeoutSeconds: Int
    /// `panic=`: kernel reboots this many seconds after a panic (0 = never, negative = at once); nil = unchanged.
    public var panicSeconds: Int?
    /// `rd.debug`: log every action verbosely.
    public var verbose: Bool
}

// MARK: - Agent

public struct AgentPlan: Codable, Equatable, Sendable {
    /// TCP port (`nodeinit.agent=`), nil when `nodeinit.agent=off`. Default 7070.
    public var port: Int?
    /// `nodeinit.agent.allow=`: peers allowed to connect. Empty with `allowBootServer` true means only the root's
    /// NFS server.
    public var allow: [IPNetwork]
    /// True when no `nodeinit.agent.allow=` was given: allow the NFS root server's address.
    public var allowBootServer: Bool
    /// `nodeinit.agent.token=`: path (in the new root) of a file holding the bearer token requests must carry.
    public var tokenPath: String?
}

// MARK: - switch_root

public struct SwitchRootPlan: Codable, Equatable, Sendable {
    /// Mount point of the new root: `/sysroot`.
    public var newRoot: String
    /// Program to exec in the new root: `init=`, default `/sbin/init`.
    public var initPath: String
    /// Arguments after `--` on the command line.
    public var initArguments: [String]
}

// MARK: - Steps

/// One action of the boot, in order. Parameters are in the plan's typed fields.
public enum BootStep: Codable, Equatable, Sendable {
    /// Mount /proc, /sys, /dev (devtmpfs), /run.
    case mountKernelFilesystems
    /// Stop in a shell; exiting it continues.
    case pause(point: ShellPoint)
    /// Load `modules.load` (names listed).
    case loadModules(names: [String])
    /// Load drivers for present devices by modalias (network cards), honouring the blacklist and parameters.
    case loadDeviceDrivers
    /// Rename interfaces per `network.interfaceNames`, configure `network.interfaces`, add routes and DNS.
    case configureNetwork
    /// Plan again with what the lease taught: its host name (node name, `%s`, `$node`) and, for `root=dhcp`, its
    /// root-path (DHCP option 17, required then). The steps after this one come from the refined plan.
    case planFromLease
    /// Mount the NFS root (`root`), trying each attempt in order until one succeeds or `retrySeconds` runs out.
    case mountRoot
    /// Wait for the overlay device (`debug.deviceTimeoutSeconds`) and mount it.
    case mountOverlayDevice
    /// Mount the tmpfs for the overlay's upper layer.
    case mountOverlayTmpfs
    /// Mount the overlay on `switchRoot.newRoot` with `overlay` mounts.
    case mountOverlay
    /// Read the xCAT tables (`tables`, else the image's `/etc/nodeinit/*.csv`) and plan again with them; the statelite
    /// steps after this one come from the refined plan (none when no table or parameter asks for statelite).
    case loadTables
    /// With `XCAT=` and no litefile from the command line or the image: ask xcatd (`statelite.xcatd`) over TLS for
    /// the node's litefile and litetree, and plan again with them; the statelite steps after this one come from that
    /// plan. Skipped (logged) when `loadTables` found a litefile.
    case fetchXcatdTables
    /// Mount a tmpfs on `<newRoot>/.statelite` and create `tmpfs/` in it (hides the image's copy).
    case mountStateliteTmpfs
    /// Mount the persistent store (`statelite.statemnt`) and its per-node directory.
    case mountStatemnt
    /// Mount a tmpfs on `<newRoot>/.sllocal/log`, wait for `statelite.localDisk` (`debug.deviceTimeoutSeconds`) and
    /// mount it read-write on `<newRoot>/.sllocal/localmnt`; when it is missing, `localdisk` entries stay in RAM.
    case mountLocalDisk
    /// Mount `statelite.treeMounts[index]` read-only (a server's tree), or open it in place (a directory of the image).
    case mountLitetree(index: Int)
    /// Apply `statelite.entries[index]` (whose path is given for readability).
    case applyLitefile(index: Int, path: String)
    /// Point `<newRoot>/.statelite/tmpfs/etc/mtab` at /proc/mounts, as xCAT does.
    case linkMtab
    /// Start the node-save agent (it survives switch_root).
    case startAgent(port: Int)
    /// Prepare the return path for the end of the run: systemd's /run/initramfs/shutdown and the record of the
    /// agent and writable devices it stops and leaves clean (not with walt-init, which builds its own root).
    case prepareShutdown
    /// Move /proc, /sys, /dev, /run into the new root, free the initramfs, exec `switchRoot.initPath`.
    case switchRoot
}
