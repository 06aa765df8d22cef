/// The parameter names nodeinit reads, for near-miss warnings: an unknown key within edit distance 1 (short
/// names) or 2 (8 characters and more) of one of these gets a warning, since a typo there silently changes the boot.
enum KnownParameters {
    static let names: Set<String> = [
        // root
        "root", "nfsroot", "NFSROOT", "rootfstype", "nbfsroot",
        // WalT (walt.* are kept in the plan whatever follows the dot)
        "boot", "walt.server.ip", "walt.node.model",
        // xCAT statelite
        "STATEMNT", "NODE", "MNTOPTS", "XCAT",
        "nodeinit.xcatd_ca", "nodeinit.xcatd_name",
        // overlay
        "rd.overlay", "rd.overlay.reset", "rd.overlay.readonly", "rd.live.overlay", "rd.live.overlay.overlayfs",
        "rd.live.overlay.reset", "rd.live.overlay.readonly",
        // network
        "ip", "BOOTIF", "ifname", "netdev", "bootdev", "nameserver", "rd.neednet", "rd.route", "rd.peerdns",
        "bond", "vlan", "bridge",
        // debug and failure
        "shell", "rd.shell", "rd.break", "rd.debug", "rd.retry", "rd.timeout", "rd.emergency", "panic", "init",
        // modules
        "rd.driver.pre", "rd.driver.post", "rd.driver.blacklist", "modprobe.blacklist",
        // nodeinit
        "nodeinit.image", "nodeinit.litefile", "nodeinit.litetree", "nodeinit.statelite", "nodeinit.agent",
        "nodeinit.agent.allow", "nodeinit.agent.token", "nodeinit.overlay.mismatch", "nodeinit.overlay.required",
        "nodeinit.save.exclude", "nodeinit.modules", "nodeinit.nfs.versions", "nodeinit.nfs.rootcache",
        "nodeinit.nfs.readahead",
        "nodeinit.groups", "nodeinit.localdisk",
    ]

    /// Common parameters of the kernel, bootloaders, xCAT and other tools that are close to a known name
    /// but are not typos (`initrd` is 2 edits from `init`).
    static let foreign: Set<String> = [
        "initrd", "rdinit", "BOOT_IMAGE", "console", "quiet", "splash", "rhgb", "ro", "rw", "debug", "single",
        "rootflags", "rootwait", "rootdelay", "imgurl", "rootlimit", "XCATIPORT", "XCATHTTPPORT", "LOGSERVER",
        "nonodestatus", "xcatdebugmode", "FC", "selinux", "enforcing", "audit", "nomodeset", "noapic", "acpi",
        "crashkernel", "loglevel", "earlyprintk", "mem", "nosmp", "maxcpus", "rd.info", "rd.udev.log_level",
        "rd.memdebug", "rd.lvm", "rd.md", "rd.dm", "rd.luks", "rd.auto", "rd.live.image", "rd.live.dir",
        "rd.live.ram", "rd.live.overlay.size", "rd.live.overlay.cowfs", "rd.live.overlay.thin",
        "rd.live.overlay.nouserconfirmprompt", "rd.nfs.domain", "rd.bootif", "rd.net.timeout.dhcp",
        "rd.net.dhcp.retry", "rd.net.timeout.carrier", "rd.net.timeout.iflink", "rd.net.timeout.ifup",
        "rd.overlay.crypt", "rd.writable.fsimg", "rd.minmem", "netroot", "nfs", "team",
        "gateway", "netmask", "hostname", "ksdevice", "nfsrootdebug", "net.ifnames", "biosdevname", "noresume",
        "resume", "nosplash", "panic_on_oops", "init_on_free", "initcall_debug", "ipv6.disable", "ip6",
        "PARTITION", "PARTITION_RH", "PARTITION_SLES", "PARTITION_DOMOUNT_RH", "PARTITION_DOMOUNT_SLES",
    ]

    /// A warning for `key` if it is unknown and close to a known name, else nil.
    static func nearMissWarning(for key: String) -> String? {
        if names.contains(key) || foreign.contains(key) { return nil }
        if key.hasPrefix("nodeinit.attr.") || key.hasPrefix("walt.") { return nil }
        // Wrong case of a known name (`statemnt=`, `bootif=`): xCAT's keys are upper case, dracut's lower case.
        let lowered = key.asciiLowercased()
        if let match = names.sorted().first(where: { $0.asciiLowercased() == lowered }) {
            return "unknown parameter \(key): did you mean \(match)?"
        }
        let keyScalars = Array(key.unicodeScalars)
        guard keyScalars.count >= 4, keyScalars.count <= 64 else { return nil }
        var best: (name: String, distance: Int)? = nil
        for name in names.sorted() {
            let nameScalars = Array(name.unicodeScalars)
            let limit = min(nameScalars.count, keyScalars.count) >= 8 ? 2 : 1
            if abs(nameScalars.count - keyScalars.count) > limit { continue }
            let distance = editDistance(keyScalars, nameScalars, limit: limit)
            if distance <= limit && (best == nil || distance < best?.distance ?? Int.max) {
                best = (name, distance)
            }
        }
        if let best { return "unknown parameter \(key): did you mean \(best.name)?" }
        // Unknown names inside our own namespace are always worth a warning.
        if key.hasPrefix("nodeinit.") { return "unknown parameter \(key) in the nodeinit namespace" }
        return nil
    }

    /// Optimal string alignment distance (Levenshtein plus adjacent transposition), stopping early above `limit`.
    static func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar], limit: Int) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            var rowMinimum = current[0]
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    value = min(value, previous2[j - 2] + 1)
                }
                current[j] = value
                rowMinimum = min(rowMinimum, value)
            }
            if rowMinimum > limit { return rowMinimum }
            previous2 = previous
            previous = current
        }
        return previous[b.count]
    }
}
