/// What goes into the nodeinit initramfs besides the modules: the mount points and scratch directories, the
/// device nodes the kernel needs to open a console for /init, and which busybox applets to link.
public enum InitramfsLayout {
    /// Written first, in this order (parents first: `usr/bin` makes `usr`).
    public static let directories = [
        "dev", "proc", "sys", "run", "sysroot", "tmp", "etc", "root", "bin", "sbin", "usr/bin", "usr/sbin", "lib",
    ]

    public struct DeviceNode: Sendable, Equatable {
        public var name: String
        public var major: UInt32
        public var minor: UInt32
        public var permissions: UInt32
    }

    /// The kernel opens /dev/console for /init's stdio before anything mounts devtmpfs.
    public static let deviceNodes = [
        DeviceNode(name: "dev/console", major: 5, minor: 1, permissions: 0o600),
        DeviceNode(name: "dev/null", major: 1, minor: 3, permissions: 0o666),
    ]

    /// A static Swift binary asks /proc/self/exe for its runtime path before /proc is mounted; this link answers
    /// until the mount of /proc hides it.
    public static let selfExecutableLink = (name: "proc/self/exe", target: "/init")

    public static let busyboxPath = "bin/busybox"

    /// The applet paths (`busybox --list-full` lines) to link to /bin/busybox: all but busybox itself and its own
    /// init and linuxrc, which must not shadow or confuse our /init.
    public static func busyboxAppletLinks(listing: String) -> [String] {
        let excluded: Set<String> = ["bin/busybox", "linuxrc", "sbin/init", "init"]
        var result: [String] = []
        for line in listing.split(whereSeparator: \.isNewline) {
            let applet = String(
                line.drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: {
                    $0 == " " || $0 == "\t" || $0 == "\r"
                }).reversed())
            if !applet.isEmpty && !excluded.contains(applet) { result.append(applet) }
        }
        return result
    }

    /// Index files depmod writes that nothing at boot reads (they serve out-of-tree module builds).
    public static let unneededIndexFiles = ["modules.symbols", "modules.symbols.bin"]

    /// Files describing the kernel image itself, copied whole so the init can tell "built in" from "missing".
    public static let copiedIndexFiles = ["modules.builtin", "modules.builtin.modinfo"]
}
