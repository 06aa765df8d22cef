/// The NFS root as the command line gives it, in any of the four syntaxes nodeinit accepts:
///
/// - xCAT legacy `NFSROOT=server:/dir`: xCAT's own `/init` mounts `dir/rootimg`, so nodeinit appends `/rootimg` too;
/// - dracut `root=nfs:[server:]path[:opts]`, `root=nfs4:...` (also `root=<ip>:/path`, rewritten to `nfs:`);
/// - RFC 2224 `root=nfs://server[:port]/path` (port becomes `port=`);
/// - kernel `root=/dev/nfs nfsroot=[server:]path[,opts]`; without `nfsroot=` the root comes from the DHCP root-path
///   (option 17) as `[server:]path[:opts]` or `[server:]path[,opts]`, and only a lease without one gives the kernel's
///   default `/tftpboot/%s` (kernel `fs/nfs/nfsroot.c`, dracut `nfs-lib.sh` `nfsroot_from_dhcp`);
/// - dracut `root=dhcp`: the root comes from the DHCP root-path (option 17), in any of the `root=` forms above
///   or bare `[server:]path` (dracut assumes NFS). Before the lease exists it is a root without server or path.
///
/// In every form a `,`-separated option list after the path is accepted, IPv6 servers go in brackets, and the
/// first `%s` in the path stands for the host name.
public struct RootSpec: Equatable, Sendable {
    /// `NFSROOT`, `root=nfs:`, `root=nfs4:`, `root=nfs://`, `nfsroot`.
    public var syntax: String
    /// Server without brackets, nil when it comes from the network.
    public var server: String?
    public var serverIsAddress: Bool
    /// Export path (for `NFSROOT=` with `/rootimg` appended).
    public var path: String
    /// Options as written, split on `,`.
    public var options: [String]
    /// True for `nfs4:`: only NFSv4 versions are tried.
    public var v4Only: Bool
    /// NFSv3 only unless the options name a version (WalT's root=/dev/nfs, mounted by klibc's nfsmount).
    public var v3Only = false
    /// The parameter name used in errors and warnings.
    public var parameter: String
    /// The raw value, for errors.
    public var rawValue: String
    /// `root=dhcp`, or `root=/dev/nfs` without `nfsroot=`: the DHCP root-path this root was read from; nil while the
    /// lease is not known yet, empty when the lease had none (then `rootPathFallback` gave the path).
    public var dhcpRootPath: String? = nil
    /// `root=/dev/nfs` (or `/dev/nfs4`) without `nfsroot=`: the path mounted when the lease has no root-path.
    public var rootPathFallback: String? = nil

    /// The kernel's default NFS root path (`NFS_ROOT` in fs/nfs/nfsroot.c); `%s` is the node's name or address.
    public static let kernelDefaultPath = "/tftpboot/%s"

    /// Reads the root from a command line (and, for `root=dhcp`, from the DHCP root-path once the lease gave one).
    /// Throws when the root is missing, not NFS, or malformed.
    public static func parse(_ commandLine: KernelCommandLine, dhcpRootPath: String? = nil) throws(ParameterError)
        -> RootSpec
    {
        let root = commandLine.last("root")
        let nfsroot = commandLine.last("nfsroot")
        let xcatRoot = commandLine.last("NFSROOT")

        if let xcatRoot {
            if let root, root != "/dev/nfs" {
                throw ParameterError(
                    parameter: "NFSROOT", value: xcatRoot,
                    problem: "conflicts with root=\(root): give one root")
            }
            return try parseXCAT(xcatRoot)
        }
        guard let root else {
            if let nfsroot {
                throw ParameterError(
                    parameter: "nfsroot", value: nfsroot, problem: "only accepted with root=/dev/nfs or root=/dev/nfs4")
            }
            throw ParameterError(
                parameter: "root", value: "",
                problem:
                    "no root given: use root=nfs:server:/path, NFSROOT=server:/dir or root=/dev/nfs nfsroot=server:/path"
            )
        }
        if root == "/dev/nfs" {
            var spec =
                if let nfsroot {
                    try parseKernel(nfsroot, parameter: "nfsroot")
                } else {
                    try rootFromLease(syntax: "root=/dev/nfs", dhcpRootPath: dhcpRootPath)
                }
            // WalT's initramfs mounts root=/dev/nfs with klibc's nfsmount, which speaks NFSv2/v3 only.
            spec.v3Only = commandLine.last("boot") == "walt"
            return spec
        }
        if root == "/dev/nfs4" {
            // WalT's NFSv4 form: mount.nfs with the nfsroot= options, the highest v4 version first.
            var spec =
                if let nfsroot {
                    try parseKernel(nfsroot, parameter: "nfsroot")
                } else {
                    try rootFromLease(syntax: "root=/dev/nfs4", dhcpRootPath: dhcpRootPath)
                }
            spec.syntax = "root=/dev/nfs4"
            spec.v4Only = true
            return spec
        }
        if root == "/dev/nbfs" {
            throw ParameterError(
                parameter: "root", value: root,
                problem: "nbfs is WalT's FUSE network file system (nbfsroot=), which nodeinit does not mount; "
                    + "boot this image with root=/dev/nfs or root=/dev/nfs4 and nfsroot=")
        }
        if let nfsroot {
            throw ParameterError(
                parameter: "nfsroot", value: nfsroot,
                problem: "only accepted with root=/dev/nfs or root=/dev/nfs4, not root=\(root)")
        }
        if root.hasPrefix("nfs://") {
            return try parseURL(root)
        }
        if root.hasPrefix("nfs:") {
            return try parseDracut(root.droppingScalars(4), whole: root, syntax: "root=nfs:", v4Only: false)
        }
        if root.hasPrefix("nfs4:") {
            return try parseDracut(root.droppingScalars(5), whole: root, syntax: "root=nfs4:", v4Only: true)
        }
        // dracut's legacy `root=<ip>:/path`.
        if let (head, tail) = root.splitOnce(on: ":"), IPAddress(head) != nil, tail.startsWith("/") {
            return try parseDracut(root, whole: root, syntax: "root=nfs:", v4Only: false)
        }
        if root == "dhcp" {
            guard let dhcpRootPath else {
                return RootSpec(
                    syntax: "root=dhcp", server: nil, serverIsAddress: false, path: "", options: [], v4Only: false,
                    parameter: "root", rawValue: root)
            }
            return try parseDHCPRootPath(dhcpRootPath)
        }
        if root == "dhcp6" {
            throw ParameterError(
                parameter: "root", value: root,
                problem: "IPv6 (DHCPv6) roots are not supported; give root=dhcp or root=nfs:server:/path")
        }
        throw ParameterError(
            parameter: "root", value: root,
            problem: "not an NFS root; nodeinit boots from root=nfs:, root=nfs4:, NFSROOT= or root=/dev/nfs nfsroot=")
    }

    /// `root=/dev/nfs` without `nfsroot=`, as the kernel and dracut read it: the lease's root-path first, the
    /// kernel's `/tftpboot/%s` only when the lease has none (an empty or blank option 17 counts as none). Before the
    /// lease (`dhcpRootPath` nil) it is a root without server or path, planned again with the lease.
    static func rootFromLease(syntax: String, dhcpRootPath: String?) throws(ParameterError) -> RootSpec {
        var spec: RootSpec
        if let dhcpRootPath {
            let value = dhcpRootPath.trimmingASCIIWhitespace()
            if value.isEmpty {
                spec = try parseKernel(kernelDefaultPath, parameter: "root")
                spec.rawValue = syntax
            } else {
                spec = try parseDHCPRootPath(value)
            }
            spec.dhcpRootPath = value
        } else {
            spec = RootSpec(
                syntax: syntax, server: nil, serverIsAddress: false, path: "", options: [], v4Only: false,
                parameter: "root", rawValue: syntax)
        }
        spec.syntax = syntax
        spec.rootPathFallback = kernelDefaultPath
        return spec
    }

    /// The DHCP root-path (option 17) for `root=dhcp`: `nfs:`, `nfs4:` or `nfs://` as on the command line, or a
    /// bare `[server:]path[:options]`, which dracut takes as NFS. Errors name the DHCP option, not the command line.
    /// Root-path schemes of other dracut root types, refused by name rather than misread as `server:path`.
    static let otherRootSchemes: Set<String> = [
        "iscsi", "nbd", "http", "https", "ftp", "tftp", "cifs", "block", "live", "zfs",
    ]

    static func parseDHCPRootPath(_ text: String) throws(ParameterError) -> RootSpec {
        let value = text.trimmingASCIIWhitespace()
        let parameter = "root=dhcp root-path"
        guard !value.isEmpty else {
            throw ParameterError(
                parameter: parameter, value: value, problem: "the DHCP server sent an empty root-path (option 17)")
        }
        var spec: RootSpec
        do throws(ParameterError) {
            if value.hasPrefix("nfs://") {
                spec = try parseURL(value)
            } else if value.hasPrefix("nfs:") {
                spec = try parseDracut(value.droppingScalars(4), whole: value, syntax: "root=dhcp", v4Only: false)
            } else if value.hasPrefix("nfs4:") {
                spec = try parseDracut(value.droppingScalars(5), whole: value, syntax: "root=dhcp", v4Only: true)
            } else if let scheme = value.splitOnce(on: ":")?.head, otherRootSchemes.contains(scheme) {
                throw ParameterError(
                    parameter: "root", value: value,
                    problem: "not an NFS root (\(scheme):); nodeinit boots NFS roots only")
            } else {
                spec = try parseDracut(value, whole: value, syntax: "root=dhcp", v4Only: false)
            }
        } catch {
            throw ParameterError(parameter: parameter, value: error.value, problem: error.problem)
        }
        spec.syntax = "root=dhcp"
        spec.parameter = parameter
        spec.dhcpRootPath = value
        return spec
    }

    /// `NFSROOT=SRV:DIR`: server before the first `:`, the rest is the directory, and `/rootimg` is appended.
    static func parseXCAT(_ value: String) throws(ParameterError) -> RootSpec {
        let pieces = value.splitColonsOutsideBrackets()
        guard pieces.count >= 2 else {
            throw ParameterError(parameter: "NFSROOT", value: value, problem: "expected server:/directory")
        }
        let (server, isAddress) = try parseServer(pieces[0], parameter: "NFSROOT", whole: value)
        var directory = pieces.dropFirst().joined(separator: ":")
        try checkPath(directory, parameter: "NFSROOT", whole: value)
        while directory.endsWith("/") && directory.unicodeScalars.count > 1 {
            directory = directory.droppingLastScalars(1)
        }
        let path = directory == "/" ? "/rootimg" : directory + "/rootimg"
        return RootSpec(
            syntax: "NFSROOT", server: server, serverIsAddress: isAddress, path: path, options: [],
            v4Only: false, parameter: "NFSROOT", rawValue: value)
    }

    /// dracut: `[server:]path[:opts]`, options also accepted kernel-style after a `,` in the path.
    static func parseDracut(_ rest: String, whole: String, syntax: String, v4Only: Bool) throws(ParameterError)
        -> RootSpec
    {
        let pieces = rest.splitColonsOutsideBrackets()
        var server: String? = nil
        var isAddress = false
        var remaining = pieces[...]
        if let first = remaining.first, !first.startsWith("/") {
            let parsed = try parseServer(first, parameter: "root", whole: whole)
            server = parsed.0
            isAddress = parsed.1
            remaining = remaining.dropFirst()
        }
        guard var path = remaining.first else {
            throw ParameterError(parameter: "root", value: whole, problem: "missing export path after the server")
        }
        var options = remaining.dropFirst().joined(separator: ":").commaList()
        if remaining.count == 1, let (head, tail) = path.splitOnce(on: ",") {
            path = head
            options = tail.commaList()
        }
        try checkPath(path, parameter: "root", whole: whole)
        return RootSpec(
            syntax: syntax, server: server, serverIsAddress: isAddress, path: path, options: options,
            v4Only: v4Only, parameter: "root", rawValue: whole)
    }

    /// `nfs://server[:port]/path`.
    static func parseURL(_ whole: String) throws(ParameterError) -> RootSpec {
        let rest = whole.droppingScalars(6)
        guard let slash = rest.unicodeScalars.firstIndex(of: "/") else {
            throw ParameterError(parameter: "root", value: whole, problem: "missing export path in nfs:// URL")
        }
        let authority = String(rest.unicodeScalars[rest.unicodeScalars.startIndex..<slash])
        let path = String(rest.unicodeScalars[slash...])
        var hostText = authority
        var options: [String] = []
        let pieces = authority.splitColonsOutsideBrackets()
        if pieces.count == 2 {
            hostText = pieces[0]
            guard let port = pieces[1].parseDecimal(max: 65535), port > 0 else {
                throw ParameterError(
                    parameter: "root", value: whole, problem: "bad port \(quotedForMessage(pieces[1]))")
            }
            options.append("port=\(port)")
        } else if pieces.count > 2 {
            throw ParameterError(parameter: "root", value: whole, problem: "IPv6 servers in nfs:// URLs go in brackets")
        }
        let (server, isAddress) = try parseServer(hostText, parameter: "root", whole: whole)
        try checkPath(path, parameter: "root", whole: whole)
        return RootSpec(
            syntax: "root=nfs://", server: server, serverIsAddress: isAddress, path: path, options: options,
            v4Only: false, parameter: "root", rawValue: whole)
    }

    /// Kernel `nfsroot=[server:]path[,opts]`: the server ends at the first `:`, the path may contain `:`
    /// (WalT's paths hold a MAC address), options start at the first `,`.
    static func parseKernel(_ whole: String, parameter: String) throws(ParameterError) -> RootSpec {
        var spec = whole
        var options: [String] = []
        if let (head, tail) = whole.splitOnce(on: ",") {
            spec = head
            options = tail.commaList()
        }
        var server: String? = nil
        var isAddress = false
        var path = spec
        if !spec.startsWith("/") {
            let serverText: String
            let pathText: String
            if spec.startsWith("["), let close = spec.unicodeScalars.firstIndex(of: "]") {
                let afterClose = spec.unicodeScalars.index(after: close)
                serverText = String(spec.unicodeScalars[spec.unicodeScalars.startIndex..<afterClose])
                let tail = String(spec.unicodeScalars[afterClose...])
                guard tail.startsWith(":") else {
                    throw ParameterError(parameter: parameter, value: whole, problem: "expected [server]:/path")
                }
                pathText = tail.droppingScalars(1)
            } else if let (head, tail) = spec.splitOnce(on: ":") {
                serverText = head
                pathText = tail
            } else {
                throw ParameterError(parameter: parameter, value: whole, problem: "expected [server:]/path")
            }
            let parsed = try parseServer(serverText, parameter: parameter, whole: whole)
            server = parsed.0
            isAddress = parsed.1
            path = pathText
        }
        try checkPath(path, parameter: parameter, whole: whole)
        return RootSpec(
            syntax: "nfsroot", server: server, serverIsAddress: isAddress, path: path, options: options,
            v4Only: false, parameter: parameter, rawValue: whole)
    }

    static func checkPath(_ path: String, parameter: String, whole: String) throws(ParameterError) {
        guard path.startsWith("/") else {
            throw ParameterError(parameter: parameter, value: whole, problem: "export path must start with /")
        }
        guard !path.containsWhitespaceOrControl else {
            throw ParameterError(
                parameter: parameter, value: whole, problem: "export path has whitespace or control characters")
        }
        guard path.unicodeScalars.count <= 1024 else {
            throw ParameterError(parameter: parameter, value: whole, problem: "export path longer than 1024 characters")
        }
    }
}
