import Testing

@testable import NodeSys

/// Lines from Debian 12's modules.alias (6.1.0-56-amd64).
private let debianModulesAlias = """
    # Aliases extracted from modules themselves.
    alias pci:v00001AF4d*sv*sd*bc*sc*i* virtio_pci
    alias pci:v00008086d0000100Esv*sd*bc*sc*i* e1000
    alias pci:v00008086d000010D3sv*sd*bc*sc*i* e1000e
    alias virtio:d00000001v* virtio_net
    alias virtio:d00000002v* virtio_blk
    alias fs-nfs4 nfsv4
    alias pci:v*d*sv*sd*bc01sc06i01* ahci
    alias acpi*:PNP0A03:* pci_root_fake
    """

@Suite struct ModaliasTests {
    let aliases = ModuleAliases(parsing: debianModulesAlias)

    @Test(arguments: [
        // QEMU's e1000 (8086:100e) and virtio-net PCI function, as read from /sys/bus/pci/devices/*/modalias.
        ("pci:v00008086d0000100Esv00001AF4sd00001100bc02sc00i00", ["e1000"]),
        ("pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00", ["virtio_pci"]),
        ("virtio:d00000001v00001AF4", ["virtio_net"]),
        ("virtio:d00000002v00001AF4", ["virtio_blk"]),
        ("pci:v00008086d00002922sv00001AF4sd00001100bc01sc06i01", ["ahci"]),
        ("pci:v00008086d00007000sv00000000sd00000000bc06sc01i00", []),
        ("acpi:PNP0A03:", ["pci_root_fake"]),
    ])
    func devicesFindTheirDrivers(modalias: String, expected: [String]) {
        #expect(aliases.modules(matching: modalias) == expected.map { ModuleName($0) })
    }

    @Test func commentsAndMalformedLinesAreIgnored() {
        #expect(aliases.aliases.count == 8)
        #expect(ModuleAliases(parsing: "alias onlytwo\n# alias a b\nnotalias x y\n").aliases.isEmpty)
    }

    @Test(arguments: [
        ("abc", "abc", true), ("abc", "abd", false), ("a*c", "abbbc", true), ("a*c", "abbbd", false),
        ("*", "", true), ("a?c", "abc", true), ("a?c", "ac", false), ("[ab]x", "bx", true), ("[!ab]x", "bx", false),
        ("[a-c]x", "cx", true), ("[a-c]x", "dx", false), ("[]]", "]", true), ("a[", "a[", true),
        ("*d*sv*", "pci:v1d2sv3", true), ("a*b*c", "aXbYbZc", true), ("a*b*c", "aXbYbZ", false),
    ])
    func globsFollowFnmatch(pattern: String, subject: String, expected: Bool) {
        #expect(ModaliasGlob(pattern).matches(subject) == expected)
    }
}
