import CNodeShim
import Glibc
import SystemPackage

/// What the kernel tells about a network interface's device beside rtnetlink: its driver, and its PHY's registers.
public enum NetworkDevice {
    /// The PHY's basic mode control (register 0) and status (register 1), IEEE 802.3 clause 22, as mii-tool reads
    /// them.
    public struct PHYStatus: Sendable, Equatable {
        public var control: UInt16
        public var status: UInt16

        public init(control: UInt16, status: UInt16) {
            self.control = control
            self.status = status
        }

        public var autonegotiationEnabled: Bool { control & 0x1000 != 0 }
        public var poweredDown: Bool { control & 0x0800 != 0 }
        public var linkUp: Bool { status & 0x0004 != 0 }
        public var autonegotiationComplete: Bool { status & 0x0020 != 0 }
        /// Negotiating now: auto-negotiation on, the PHY powered, the link not up yet.
        public var negotiating: Bool { autonegotiationEnabled && !poweredDown && !linkUp }
    }

    /// The name of the driver bound to the interface's device (`/sys/class/net/<name>/device/driver`), or nil for
    /// virtual interfaces and unreadable links.
    public static func driverName(of interface: String) -> String? {
        var target = [CChar](repeating: 0, count: 256)
        let length = readlink("/sys/class/net/\(interface)/device/driver", &target, target.count - 1)
        guard length > 0 else { return nil }
        let path = target.prefix(length).map { UInt8(bitPattern: $0) }
        guard let slash = path.lastIndex(of: UInt8(ascii: "/")) else { return String(decoding: path, as: UTF8.self) }
        return String(decoding: path[(slash + 1)...], as: UTF8.self)
    }

    /// Reads the PHY's control and status registers through the driver (SIOCGMIIREG); works on interfaces that are
    /// down for drivers that answer it then. The status register's link bit latches low, so it is read twice: the
    /// second read is the link now.
    public static func phyStatus(of interface: String) -> Result<PHYStatus, Errno> {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(.captured) }
        defer { close(fd) }
        let control = nodeinit_mii_read(fd, interface, 0)
        guard control >= 0 else { return .failure(.captured) }
        _ = nodeinit_mii_read(fd, interface, 1)
        let status = nodeinit_mii_read(fd, interface, 1)
        guard status >= 0 else { return .failure(.captured) }
        return .success(
            PHYStatus(control: UInt16(truncatingIfNeeded: control), status: UInt16(truncatingIfNeeded: status)))
    }
}
