import NodeSys
import TestSupport

/// A BOOTP/DHCP packet assembled field by field from the RFC 2131 figure 1 layout, independent of the codec.
struct RFCPacket {
    var op: UInt8 = 2
    var xid: [UInt8] = [0x12, 0x34, 0x56, 0x78]
    var flags: [UInt8] = [0x80, 0x00]
    var ciaddr: [UInt8] = [0, 0, 0, 0]
    var yiaddr: [UInt8] = [10, 99, 0, 42]
    var siaddr: [UInt8] = [10, 99, 0, 1]
    var giaddr: [UInt8] = [0, 0, 0, 0]
    var chaddr: [UInt8] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]
    var sname: [UInt8] = []
    var file: [UInt8] = []
    var cookie: [UInt8] = [0x63, 0x82, 0x53, 0x63]
    var options: [UInt8] = []

    var bytes: [UInt8] {
        var packet: [UInt8] = [op, 1, 6, 0] + xid + [0, 3] + flags + ciaddr + yiaddr + siaddr + giaddr
        packet += chaddr + [UInt8](repeating: 0, count: 16 - chaddr.count)
        packet += sname + [UInt8](repeating: 0, count: 64 - sname.count)
        packet += file + [UInt8](repeating: 0, count: 128 - file.count)
        return packet + cookie + options
    }

    static func option(_ code: UInt8, _ value: [UInt8]) -> [UInt8] { [code, UInt8(value.count)] + value }
    static func option(_ code: UInt8, _ text: String) -> [UInt8] { option(code, Array(text.utf8)) }
}
