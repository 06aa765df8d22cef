import Testing

@testable import BootConfig

struct Malformed: CustomStringConvertible, Sendable {
    var line: String
    /// The exact error message (`parameter="value": problem`).
    var message: String
    var description: String { line }
}

/// Every malformed value is an error naming the parameter and what is wrong; never a default.
@Suite struct MalformedInputTests {
    static let cases: [Malformed] = [
        Malformed(
            line: "quiet",
            message:
                "root=\"\": no root given: use root=nfs:server:/path, NFSROOT=server:/dir or root=/dev/nfs nfsroot=server:/path"
        ),
        Malformed(
            line: "root=UUID=1234",
            message:
                "root=\"UUID=1234\": not an NFS root; nodeinit boots from root=nfs:, root=nfs4:, NFSROOT= or root=/dev/nfs nfsroot="
        ),
        Malformed(line: "root=nfs:server", message: "root=\"nfs:server\": missing export path after the server"),
        Malformed(
            line: "root=nfs:server:relative/path",
            message: "root=\"nfs:server:relative/path\": export path must start with /"),
        Malformed(line: "root=nfs:[fe80::1:/x", message: "root=\"nfs:[fe80::1:/x\": bad IPv6 server [fe80::1:/x"),
        Malformed(line: "root=nfs:bad_host!:/x", message: "root=\"nfs:bad_host!:/x\": bad server name \"bad_host!\""),
        Malformed(
            line: "root=nfs:10.0.0.1:/x:vers=2",
            message: "root=\"nfs:10.0.0.1:/x:vers=2\": NFS version 2 is not supported"),
        Malformed(
            line: "root=nfs:10.0.0.1:/x:vers=5", message: "root=\"nfs:10.0.0.1:/x:vers=5\": unknown NFS version \"5\""),
        Malformed(
            line: "root=nfs4:10.0.0.1:/x:vers=3",
            message: "root=\"nfs4:10.0.0.1:/x:vers=3\": nfs4: conflicts with vers=3"),
        Malformed(line: "root=nfs://srv:99999/x", message: "root=\"nfs://srv:99999/x\": bad port \"99999\""),
        Malformed(
            line: "root=dhcp6",
            message: "root=\"dhcp6\": IPv6 (DHCPv6) roots are not supported; give root=dhcp or root=nfs:server:/path"),
        Malformed(
            line: "root=nfs:a:/b nfsroot=a:/c",
            message: "nfsroot=\"a:/c\": only accepted with root=/dev/nfs or root=/dev/nfs4, not root=nfs:a:/b"),
        Malformed(
            line: "nfsroot=a:/c", message: "nfsroot=\"a:/c\": only accepted with root=/dev/nfs or root=/dev/nfs4"),
        Malformed(line: "root=/dev/nfs nfsroot=srv", message: "nfsroot=\"srv\": expected [server:]/path"),
        Malformed(line: "NFSROOT=server", message: "NFSROOT=\"server\": expected server:/directory"),
        Malformed(line: "NFSROOT=server:install", message: "NFSROOT=\"server:install\": export path must start with /"),
        Malformed(
            line: "NFSROOT=a:/b root=nfs:c:/d", message: "NFSROOT=\"a:/b\": conflicts with root=nfs:c:/d: give one root"
        ),
        Malformed(
            line: "root=nfs:a:/b rootfstype=ramdisk",
            message: "rootfstype=\"ramdisk\": nodeinit boots NFS roots only (rootfstype=nfs, nfs4 or walt)"),
        Malformed(line: "root=nfs:a:/b STATEMNT=server", message: "STATEMNT=\"server\": expected server:/directory"),
        Malformed(line: "root=nfs:a:/b STATEMNT=:/state", message: "STATEMNT=\":/state\": empty server name"),
        Malformed(
            line: "root=nfs:a:/b STATEMNT=$node:/x",
            message: "STATEMNT=\"$node:/x\": $node needs the node name: give NODE= (or a host name in ip=)"),
        Malformed(
            line: "root=nfs:a:/b NODE=bad/name",
            message: "NODE=\"bad/name\": expected a node name (letters, digits, -, _, .)"),
        Malformed(line: "root=nfs:a:/b MNTOPTS=vers=7", message: "MNTOPTS=\"vers=7\": unknown NFS version \"7\""),
        Malformed(line: "root=nfs:a:/b XCAT=10.0.0.1", message: "XCAT=\"10.0.0.1\": expected host:port"),
        Malformed(line: "root=nfs:a:/b XCAT=10.0.0.1:0", message: "XCAT=\"10.0.0.1:0\": expected host:port"),
        Malformed(line: "root=nfs:a:/b rd.overlay=LABEL=", message: "rd.overlay=\"LABEL=\": empty LABEL= device name"),
        Malformed(
            line: "root=nfs:a:/b rd.overlay=sdb",
            message: "rd.overlay=\"sdb\": not a device: expected LABEL=, UUID=, PARTUUID=, PARTLABEL= or /dev/..."),
        Malformed(
            line: "root=nfs:a:/b rd.overlay=tmpfs:size=lots",
            message: "rd.overlay=\"tmpfs:size=lots\": bad tmpfs size \"lots\""),
        Malformed(
            line: "root=nfs:a:/b rd.overlay=tmpfs:size=150%",
            message: "rd.overlay=\"tmpfs:size=150%\": bad tmpfs size \"150%\""),
        Malformed(
            line: "root=nfs:a:/b rd.live.overlay=/dev/sdb:/x/../../etc",
            message: "rd.live.overlay=\"/dev/sdb:/x/../../etc\": bad overlay path \"/x/../../etc\""),
        Malformed(
            line: "root=nfs:a:/b rd.overlay.reset=maybe",
            message: "rd.overlay.reset=\"maybe\": expected 1/yes/on or 0/no/off"),
        Malformed(
            line: "root=nfs:a:/b nodeinit.overlay.mismatch=ignore",
            message: "nodeinit.overlay.mismatch=\"ignore\": expected tmpfs, reset or fail"),
        Malformed(
            line: "root=nfs:a:/b ip=dhcpp",
            message:
                "ip=\"dhcpp\": unknown form: expected dhcp, <if>:dhcp or <client>:<peer>:<gw>:<mask>:<host>:<if>:<autoconf>"
        ),
        Malformed(line: "root=nfs:a:/b ip=bootp", message: "ip=\"bootp\": autoconf bootp is not supported (use dhcp)"),
        Malformed(
            line: "root=nfs:a:/b ip", message: "ip=\"\": needs a value such as dhcp or client:peer:gw:mask:host:if:none"
        ),
        Malformed(
            line: "root=nfs:a:/b ip=eth0:static",
            message: "ip=\"eth0:static\": unknown method \"static\" for interface eth0"),
        Malformed(
            line: "root=nfs:a:/b ip=10.0.0.2::10.0.0.1::cn::none",
            message: "ip=\"10.0.0.2::10.0.0.1::cn::none\": static configuration needs a netmask (it is not computed)"),
        Malformed(
            line: "root=nfs:a:/b ip=::10.0.0.1:255.0.0.0:cn::none",
            message: "ip=\"::10.0.0.1:255.0.0.0:cn::none\": static configuration needs a client address"),
        Malformed(
            line: "root=nfs:a:/b ip=10.0.0.2::10.0.0.1:255.0.255.0:cn::none",
            message: "ip=\"10.0.0.2::10.0.0.1:255.0.255.0:cn::none\": bad netmask \"255.0.255.0\""),
        Malformed(
            line: "root=nfs:a:/b ip=10.0.0.2::10.0.0.1:24:cn::dhcp",
            message: "ip=\"10.0.0.2::10.0.0.1:24:cn::dhcp\": a client address cannot be combined with dhcp"),
        Malformed(
            line: "root=nfs:a:/b ip=10.0.0.300::10.0.0.1:24:cn::none",
            message: "ip=\"10.0.0.300::10.0.0.1:24:cn::none\": bad client address \"10.0.0.300\""),
        Malformed(
            line: "root=nfs:a:/b ip=10.0.0.2::[::1]:24:cn::none",
            message: "ip=\"10.0.0.2::[::1]:24:cn::none\": bad gateway \"[::1]\""),
        Malformed(line: "root=nfs:a:/b ip=eth0:dhcp:20", message: "ip=\"eth0:dhcp:20\": bad MTU \"20\""),
        Malformed(
            line: "root=nfs:a:/b ip=eth0:dhcp::52:54:00:12:34",
            message: "ip=\"eth0:dhcp::52:54:00:12:34\": bad MAC address after the MTU field"),
        Malformed(
            line: "root=nfs:a:/b ip=eth0:dhcp ip=eth0:dhcp6",
            message: "ip=\"eth0:dhcp6\": interface eth0 configured twice"),
        Malformed(
            line: "root=nfs:a:/b ip=10.0.0.2::10.0.0.1:24:bad!host::none",
            message: "ip=\"10.0.0.2::10.0.0.1:24:bad!host::none\": bad host name \"bad!host\""),
        Malformed(
            line: "root=nfs:a:/b BOOTIF=01-52-54-00-12-34",
            message: "BOOTIF=\"01-52-54-00-12-34\": expected 01-aa-bb-cc-dd-ee-ff or aa:bb:cc:dd:ee:ff"),
        Malformed(
            line: "root=nfs:a:/b BOOTIF=20-52-54-00-12-34-56",
            message: "BOOTIF=\"20-52-54-00-12-34-56\": expected 01-aa-bb-cc-dd-ee-ff or aa:bb:cc:dd:ee:ff"),
        Malformed(line: "root=nfs:a:/b ifname=eth0", message: "ifname=\"eth0\": expected <interface>:<mac>"),
        Malformed(
            line: "root=nfs:a:/b ifname=eth0:zz:54:00:12:34:56",
            message: "ifname=\"eth0:zz:54:00:12:34:56\": bad MAC address \"zz:54:00:12:34:56\""),
        Malformed(
            line: "root=nfs:a:/b netdev=this-name-is-too-long",
            message: "netdev=\"this-name-is-too-long\": expected an interface name"),
        Malformed(
            line: "root=nfs:a:/b nameserver=dns.example", message: "nameserver=\"dns.example\": expected an IP address"),
        Malformed(
            line: "root=nfs:a:/b rd.route=10.0.0.0:10.0.0.1",
            message: "rd.route=\"10.0.0.0:10.0.0.1\": bad destination \"10.0.0.0\""),
        Malformed(
            line: "root=nfs:a:/b rd.route=10.0.0.0/8:gw.example:eth0",
            message: "rd.route=\"10.0.0.0/8:gw.example:eth0\": bad gateway \"gw.example\""),
        Malformed(
            line: "root=nfs:a:/b rd.route=10.0.0.0/8:[2001:db8::1]",
            message: "rd.route=\"10.0.0.0/8:[2001:db8::1]\": bad gateway \"[2001:db8::1]\""),
        Malformed(
            line: "root=nfs:a:/b rd.route=10.0.0.0/8::bad/name",
            message: "rd.route=\"10.0.0.0/8::bad/name\": bad interface name \"bad/name\""),
        Malformed(
            line: "root=nfs:a:/b rd.route=10.0.0.0/33:10.0.0.1",
            message: "rd.route=\"10.0.0.0/33:10.0.0.1\": bad prefix length \"33\""),
        Malformed(line: "root=nfs:a:/b rd.neednet=2", message: "rd.neednet=\"2\": expected 1/yes/on or 0/no/off"),
        Malformed(
            line: "root=nfs:a:/b rd.break=pre-mnt",
            message:
                "rd.break=\"pre-mnt\": unknown stage \"pre-mnt\"; expected one of cleanup, cmdline, initqueue, mount, pre-mount, pre-pivot, pre-trigger, pre-udev"
        ),
        Malformed(
            line: "root=nfs:a:/b rd.retry=soon", message: "rd.retry=\"soon\": expected a whole number from 0 to 86400"),
        Malformed(
            line: "root=nfs:a:/b rd.timeout=-1", message: "rd.timeout=\"-1\": expected a whole number from 0 to 86400"),
        Malformed(
            line: "root=nfs:a:/b rd.emergency=explode",
            message: "rd.emergency=\"explode\": expected reboot, poweroff or halt"),
        Malformed(line: "root=nfs:a:/b panic=never", message: "panic=\"never\": expected a number of seconds"),
        Malformed(line: "root=nfs:a:/b init=sbin/init", message: "init=\"sbin/init\": expected an absolute path"),
        Malformed(
            line: "root=nfs:a:/b rd.driver.pre=bad/module",
            message: "rd.driver.pre=\"bad/module\": bad module name \"bad/module\""),
        Malformed(
            line: "root=nfs:a:/b nodeinit.agent=70000",
            message: "nodeinit.agent=\"70000\": expected a TCP port (1-65535) or off"),
        Malformed(
            line: "root=nfs:a:/b nodeinit.agent.allow=10.0.0.0/40",
            message: "nodeinit.agent.allow=\"10.0.0.0/40\": bad address or CIDR \"10.0.0.0/40\""),
        Malformed(
            line: "root=nfs:a:/b nodeinit.agent.token=token",
            message: "nodeinit.agent.token=\"token\": expected an absolute path"),
        Malformed(
            line: "root=nfs:a:/b nodeinit.litefile=litefile.csv",
            message: "nodeinit.litefile=\"litefile.csv\": expected an absolute path in the image or nfs://server/path"),
        Malformed(
            line: "root=nfs:a:/b nodeinit.litetree=nfs://server",
            message: "nodeinit.litetree=\"nfs://server\": expected nfs://server/path"),
        Malformed(
            line: "root=nfs:a:/b nodeinit.image=a/b",
            message: "nodeinit.image=\"a/b\": expected an image name without / or spaces"),
        Malformed(
            line: "root=nfs:a:/b nodeinit.nfs.versions=4.3",
            message: "nodeinit.nfs.versions=\"4.3\": unknown NFS version \"4.3\" (3, 4.0, 4.1, 4.2)"),
        Malformed(
            line: "root=nfs:a:/b nodeinit.save.exclude=tmp",
            message: "nodeinit.save.exclude=\"tmp\": expected an absolute path"),
        Malformed(
            line: "root=nfs:a:/b nodeinit.attr.nodepos=x",
            message: "nodeinit.attr.nodepos=\"x\": expected nodeinit.attr.<table>.<column>=<value>"),
        Malformed(
            line: "root=nfs:a:/b nodeinit.localdisk=sdb",
            message:
                "nodeinit.localdisk=\"sdb\": not a device: expected LABEL=, UUID=, PARTUUID=, PARTLABEL= or /dev/..."),
        Malformed(
            line: "root=nfs:a:/b nodeinit.localdisk",
            message: "nodeinit.localdisk=\"\": not a device: expected LABEL=, UUID=, PARTUUID=, PARTLABEL= or /dev/..."),
        Malformed(
            line: "root=nfs:a:/b nodeinit.localdisk=",
            message: "nodeinit.localdisk=\"\": not a device: expected LABEL=, UUID=, PARTUUID=, PARTLABEL= or /dev/..."),
        Malformed(
            line: "root=nfs:a:/b nodeinit.localdisk=LABEL=",
            message: "nodeinit.localdisk=\"LABEL=\": empty LABEL= device name"),
        Malformed(
            line: "root=nfs:a:/b nodeinit.localdisk=UUID=ab/cd",
            message: "nodeinit.localdisk=\"UUID=ab/cd\": UUID= value has invalid characters"),
        Malformed(
            line: "root=nfs:a:/b nodeinit.localdisk=/dev/",
            message:
                "nodeinit.localdisk=\"/dev/\": not a device: expected LABEL=, UUID=, PARTUUID=, PARTLABEL= or /dev/..."),
        Malformed(
            line: "root=nfs:a:/b nodeinit.localdisk=/tmp/disk.img",
            message:
                "nodeinit.localdisk=\"/tmp/disk.img\": not a device: expected LABEL=, UUID=, PARTUUID=, PARTLABEL= or /dev/..."
        ),
    ]

    @Test(arguments: cases)
    func rejected(_ testCase: Malformed) {
        do {
            let plan = try BootPlanner.plan(BootInputs(commandLine: KernelCommandLine(testCase.line)))
            Issue.record("accepted, plan has \(plan.steps.count) steps")
        } catch let error as any BootConfigError {
            #expect(error.description == testCase.message)
        } catch {
            Issue.record("not a BootConfigError: \(error)")
        }
    }

    @Test func malformedTableRowsNameFileAndLine() {
        let tables: [(BootInputs, String)] = [
            (
                BootInputs(
                    commandLine: KernelCommandLine("NFSROOT=a:/b"),
                    litefile: .init(
                        name: "lf.csv", text: "#image,file,options,comments,disable\nALL,/etc/x,,,\nALL,/etc/y,rox,,\n")
                ),
                "lf.csv:3: unknown option \"rox\" for /etc/y; expected blank, tmpfs, rw, tmpfs,rw, link, persistent, link,persistent, ro, link,ro, con, link,con, localdisk, bind or bind,persistent"
            ),
            (
                BootInputs(
                    commandLine: KernelCommandLine("NFSROOT=a:/b"),
                    litetree: .init(name: "lt.csv", text: "one,,s:/x,,,\n")),
                "lt.csv:1: priority \"one\" is not a number"
            ),
            (
                BootInputs(
                    commandLine: KernelCommandLine("NFSROOT=a:/b"),
                    litetree: .init(name: "lt.csv", text: "1,,s:/x,\"vers=2\",,\n")),
                "lt.csv:1: mntopts=\"vers=2\": NFS version 2 is not supported"
            ),
            (
                BootInputs(
                    commandLine: KernelCommandLine("NFSROOT=a:/b"),
                    litetree: .init(name: "lt.csv", text: "\n1,,\"s:/x/#CMD=uname -r#\",,,\n")),
                "lt.csv:2: directory \"s:/x/#CMD=uname -r#\" contains whitespace"
            ),
            (
                BootInputs(
                    commandLine: KernelCommandLine("NFSROOT=a:/b NODE=n"),
                    litetree: .init(name: "lt.csv", text: "1,,\"s:/x/#CMD=hostname#\",,,\n")),
                "lt.csv:1: #CMD=...# runs a command on the xCAT server and cannot be done on the node"
            ),
            (
                BootInputs(
                    commandLine: KernelCommandLine("NFSROOT=a:/b NODE=n"),
                    litetree: .init(name: "lt.csv", text: "1,,\"s:relative\",,,\n")),
                "lt.csv:1: directory=\"s:relative\": export path must start with /"
            ),
            (
                BootInputs(
                    commandLine: KernelCommandLine("NFSROOT=a:/b NODE=n"),
                    statelite: .init(name: "sl.csv", text: "n,,server,,\n")),
                "sl.csv:1: statemnt=\"server\": expected server:/directory"
            ),
            (
                BootInputs(
                    commandLine: KernelCommandLine("NFSROOT=a:/b NODE=n"),
                    statelite: .init(name: "sl.csv", text: ",,s:/x,,\n")),
                "sl.csv:1: empty node or group name"
            ),
        ]
        for (inputs, message) in tables {
            do {
                _ = try BootPlanner.plan(inputs)
                Issue.record("accepted; expected \(message)")
            } catch let error as any BootConfigError {
                #expect(error.description == message)
            } catch {
                Issue.record("not a BootConfigError: \(error)")
            }
        }
    }
}
