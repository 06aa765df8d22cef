import Testing

@testable import NodeSys

/// Lines from Debian 12's linux-image-6.1.0-56-amd64 modules.dep (depmod output).
private let debianModulesDep = """
    kernel/fs/nfs/nfs.ko: kernel/fs/lockd/lockd.ko kernel/fs/nfs_common/grace.ko kernel/net/sunrpc/sunrpc.ko kernel/fs/fscache/fscache.ko kernel/fs/netfs/netfs.ko
    kernel/fs/nfs/nfsv3.ko: kernel/fs/nfs_common/nfs_acl.ko kernel/fs/nfs/nfs.ko kernel/fs/lockd/lockd.ko kernel/fs/nfs_common/grace.ko kernel/net/sunrpc/sunrpc.ko kernel/fs/fscache/fscache.ko kernel/fs/netfs/netfs.ko
    kernel/fs/nfs/nfsv4.ko: kernel/net/dns_resolver/dns_resolver.ko kernel/fs/nfs/nfs.ko kernel/fs/lockd/lockd.ko kernel/fs/nfs_common/grace.ko kernel/net/sunrpc/sunrpc.ko kernel/fs/fscache/fscache.ko kernel/fs/netfs/netfs.ko
    kernel/fs/lockd/lockd.ko: kernel/fs/nfs_common/grace.ko kernel/net/sunrpc/sunrpc.ko
    kernel/fs/nfs_common/grace.ko:
    kernel/fs/nfs_common/nfs_acl.ko: kernel/net/sunrpc/sunrpc.ko
    kernel/net/sunrpc/sunrpc.ko:
    kernel/fs/fscache/fscache.ko: kernel/fs/netfs/netfs.ko
    kernel/fs/netfs/netfs.ko:
    kernel/net/dns_resolver/dns_resolver.ko:
    kernel/fs/overlayfs/overlay.ko:
    kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_legacy_dev.ko kernel/drivers/virtio/virtio_pci_modern_dev.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
    kernel/drivers/virtio/virtio_pci_legacy_dev.ko:
    kernel/drivers/virtio/virtio_pci_modern_dev.ko:
    kernel/drivers/virtio/virtio.ko:
    kernel/drivers/virtio/virtio_ring.ko:
    kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
    kernel/drivers/net/net_failover.ko: kernel/net/core/failover.ko
    kernel/net/core/failover.ko:
    kernel/drivers/net/ethernet/intel/e1000/e1000.ko:
    """

@Suite struct ModuleDependenciesTests {
    let dependencies = ModuleDependencies(parsing: debianModulesDep)

    @Test func parsesPathsAndDependencies() throws {
        let nfsv4 = try #require(dependencies.entry("nfsv4"))
        #expect(nfsv4.path == "kernel/fs/nfs/nfsv4.ko")
        #expect(nfsv4.dependencies.first == "dns_resolver")
        #expect(nfsv4.dependencies.count == 7)
        #expect(dependencies.entry("grace")?.dependencies == [])
    }

    @Test(arguments: [
        ("nfsv4", ["netfs", "fscache", "sunrpc", "grace", "lockd", "nfs", "dns_resolver", "nfsv4"]),
        ("virtio_net", ["failover", "net_failover", "virtio_ring", "virtio", "virtio_net"]),
        ("overlay", ["overlay"]),
    ])
    func everyDependencyComesBeforeItsUser(module: String, expectedSet: [String]) throws {
        let order = try dependencies.loadOrder(for: [ModuleName(module)])
        #expect(Set(order) == Set(expectedSet.map { ModuleName($0) }))
        #expect(order.last == ModuleName(module))
        for (index, name) in order.enumerated() {
            for dependency in dependencies.entry(name)?.dependencies ?? [] {
                let dependencyIndex = try #require(order.firstIndex(of: dependency))
                #expect(dependencyIndex < index, "\(dependency) must load before \(name)")
            }
        }
    }

    @Test func sharedDependenciesLoadOnceAndSkipsAreLeftOut() throws {
        let order = try dependencies.loadOrder(for: ["nfsv4", "nfsv3"], skipping: ["sunrpc"])
        #expect(order.filter { $0 == "nfs" }.count == 1)
        #expect(!order.contains("sunrpc"))
        #expect(order.contains("nfs_acl"))
        #expect(order.firstIndex(of: "nfs")! < order.firstIndex(of: "nfsv3")!)
    }

    @Test func unknownModuleIsNamed() {
        #expect(throws: ModuleDependencies.Error.unknownModule("nosuch")) {
            try dependencies.loadOrder(for: ["nosuch"])
        }
    }

    @Test func cycleIsReported() {
        let cyclic = ModuleDependencies(parsing: "a.ko: b.ko\nb.ko: a.ko\n")
        #expect(throws: ModuleDependencies.Error.dependencyCycle(["a", "b", "a"])) {
            try cyclic.loadOrder(for: ["a"])
        }
    }

    @Test(arguments: [
        ("kernel/fs/nfs/nfsv4.ko", "nfsv4"),
        ("kernel/drivers/net/ethernet/intel/e1000e/e1000e.ko.xz", "e1000e"),
        ("kernel/arch/x86/crypto/libblake2s-x86_64.ko", "libblake2s_x86_64"),
        ("snd-hda-intel", "snd_hda_intel"),
    ])
    func moduleNamesNormalise(input: String, expected: String) {
        #expect(ModuleName(modulePath: input).rawValue == expected)
    }

    @Test func builtinAndLoadedLists() {
        let builtin = KernelModuleLists.builtin(
            parsing: "kernel/net/packet/af_packet.ko\nkernel/arch/x86/crypto/libblake2s-x86_64.ko\n")
        #expect(builtin == ["af_packet", "libblake2s_x86_64"])
        let loaded = KernelModuleLists.loaded(
            parsing: "virtio_net 65536 0 - Live 0x0000000000000000\nnet_failover 24576 1 virtio_net, Live 0x0\n")
        #expect(loaded == ["virtio_net", "net_failover"])
    }
}
