// swift-tools-version: 6.2
//
// nodeinit: the boot layer for diskless cluster and testbed nodes.
//
// Layering (see docs/architecture.md):
//   NetworkAddresses pure: IPv4/IPv6/MAC address and network values, shared by every layer.
//   RuntimeLayout   pure: every /run/nodeinit path, and the version (from CBuildVersion.h or `git describe`).
//   BootConfig      pure: kernel command line + xCAT tables -> validated BootPlan. No libc, no I/O.
//   NodeSys         the libc layer: fds, mounts (wraps libmount), modules, netlink, sockets, switch_root.
//   BlockDevices    wraps libblkid (devspec resolution, fs probing).
//   NFSFiles        wraps libnfs (reading tables over NFS without a kernel mount).
//   TLSClient       wraps mbedtls (the TLS session to xcatd for the litefile/litetree tables).
//   NodeNetwork     DHCPv4 client, DNS resolver, interface setup (protocol codecs are pure).
//   NodeBoot        the PID-1 boot: BootSequence walks the BootPlan's steps, one executor each (Steps/).
//   OverlayCapture  overlay upper dir -> streamed OCI layer (PAX tar writer, compressing sink): the node's capture.
//   LayerCompression wraps zlib and libzstd (gzip/zstd layer streams).
//   LayerApply      server side: the tar reader, the decompressing source, layer apply (`nodeinit apply`, pull, save).
//   JSONCoding      pure: Codable JSON without Foundation (plan --json, capture summaries, the agent's replies).
//   NodeCommands    the node-side commands (init, agent, capture, plan, network-up, shutdown) and their parser.
//   NodeInitNode    the thin `nodeinit-node` executable: the node's /init (no ArgumentParser, no Foundation).
//   NodeInit        the thin `nodeinit` executable: the node-side commands plus pull, save, apply, initramfs.
//   NodeSaveClient  server side of node save: the agent client, pull, save, multi-node runs, progress.
//
// Server-only code lives in modules the node's /init does not link (LayerApply, NodeSaveClient, InitramfsBuild):
// Swift keeps every type of a linked module alive through its metadata records, even past --gc-sections.
//
// The static /init is built with `make static` (-static-executable passed on the command line,
// so no unsafe flags live in this manifest).
import PackageDescription

let package = Package(
    name: "nodeinit",
    platforms: [.macOS(.v15)],
    products: [
        // The full command (servers and admins): the node-side commands plus pull, save, apply and initramfs.
        .executable(name: "nodeinit", targets: ["NodeInit"]),
        // The node's /init: the boot, the shutdown and the node-side commands, without swift-argument-parser and
        // FoundationEssentials (unpacked at every boot).
        .executable(name: "nodeinit-node", targets: ["NodeInitNode"]),
        .library(name: "BootConfig", targets: ["BootConfig"]),
        .library(name: "OverlayCapture", targets: ["OverlayCapture"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-extras/swift-extras-base64", from: "1.2.0"),
    ],
    targets: [
        // Pure: text in, validated values out.
        .target(name: "NetworkAddresses", dependencies: ["TextSearch"]),
        // Pure: substring search without _StringProcessing (which would bring the regex engine into /init).
        .target(name: "TextSearch"),
        // A header only: the version string, which `make static` overrides with `git describe`.
        .target(name: "CBuildVersion"),
        .target(name: "RuntimeLayout", dependencies: ["CBuildVersion"]),
        .target(name: "BootConfig", dependencies: ["NetworkAddresses", "RuntimeLayout", "TextSearch"]),
        // Pure: Codable JSON without Foundation (FoundationEssentials would add megabytes to the node's /init).
        .target(name: "JSONCoding"),

        // C: only what Swift cannot call (variadic syscall, prctl, reboot, makedev, openat2, ...).
        .target(name: "CNodeShim"),
        .systemLibrary(
            name: "CLibMount", path: "Sources/CLibMount", pkgConfig: "mount",
            providers: [.apt(["libmount-dev"])]),
        .systemLibrary(
            name: "CLibBlkid", path: "Sources/CLibBlkid", pkgConfig: "blkid",
            providers: [.apt(["libblkid-dev"])]),
        .systemLibrary(
            name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(
            name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        // Debian's libmbedtls-dev 2.28 has no pkg-config file: the module map names the three libraries.
        .systemLibrary(name: "CMbedTLS", path: "Sources/CMbedTLS", providers: [.apt(["libmbedtls-dev"])]),
        .systemLibrary(
            name: "CLibNFS", path: "Sources/CLibNFS", pkgConfig: "libnfs",
            providers: [.apt(["libnfs-dev"])]),

        .target(
            name: "NodeSys",
            dependencies: [
                "CNodeShim", "CLibMount", "NetworkAddresses",
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "BlockDevices",
            dependencies: ["CLibBlkid", "NodeSys", .product(name: "SystemPackage", package: "swift-system")]),
        // Wraps mbedtls: a TLS 1.2 client session over a NodeSys TCP stream, verified against a CA or not at all.
        .target(name: "TLSClient", dependencies: ["CMbedTLS", "NodeSys"]),
        .target(
            name: "NFSFiles",
            dependencies: ["CLibNFS"]),
        .target(
            name: "NodeNetwork",
            dependencies: ["NodeSys", "BootConfig", "JSONCoding", .product(name: "Logging", package: "swift-log")]),
        // Wraps zlib and libzstd (streaming gzip/zstd for OCI layers).
        .target(name: "LayerCompression", dependencies: ["CZlib", "CZstd", "TextSearch"]),
        // Pure: the newc cpio writer, the initramfs layout and the compiled-in module list.
        .target(name: "InitramfsImage"),
        // `nodeinit initramfs`: the module closure, staging + depmod, the streamed compressed archive.
        .target(
            name: "InitramfsBuild",
            dependencies: [
                "InitramfsImage", "NodeSys", "LayerCompression",
                .product(name: "SystemPackage", package: "swift-system"),
            ]),
        .target(
            name: "OverlayCapture",
            dependencies: [
                "NodeSys", "LayerCompression", "RuntimeLayout", "JSONCoding",
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "ExtrasBase64", package: "swift-extras-base64"),
            ]),
        // Server side: reads and applies OCI layers (`nodeinit apply`, pull, save); never linked into the node's /init.
        .target(
            name: "LayerApply",
            dependencies: [
                "NodeSys", "OverlayCapture", "LayerCompression",
                .product(name: "SystemPackage", package: "swift-system"),
            ]),
        // The node-save agent (HTTP server on the node) and the HTTP codecs it shares with NodeSaveClient. Its own
        // small HTTP/1.1 over NodeSys sockets: SwiftNIO would add about 11 MB to the static /init.
        .target(
            name: "NodeAgent",
            dependencies: [
                "NodeSys", "OverlayCapture", "RuntimeLayout", "JSONCoding",
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ExtrasBase64", package: "swift-extras-base64"),
            ]),
        // Server side of node save (pull, save, multi-node runs); never linked into the node's /init.
        .target(
            name: "NodeSaveClient",
            dependencies: [
                "NodeSys", "NodeAgent", "OverlayCapture", "LayerApply", "JSONCoding", "TextSearch",
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "ExtrasBase64", package: "swift-extras-base64"),
            ]),
        .target(
            name: "NodeBoot",
            dependencies: [
                "BootConfig", "RuntimeLayout", "NodeSys", "NodeNetwork", "BlockDevices", "NFSFiles", "OverlayCapture",
                "NodeAgent", "TLSClient", "JSONCoding",
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The node-side commands (init, agent, capture, plan, network-up, shutdown, version) and the entry both
        // executables share; their options are parsed by its own small CommandSpec.
        .target(
            name: "NodeCommands",
            dependencies: [
                "BootConfig", "RuntimeLayout", "NodeBoot", "OverlayCapture", "NodeSys", "NodeNetwork", "NodeAgent",
                "JSONCoding",
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .executableTarget(name: "NodeInitNode", dependencies: ["NodeCommands"]),
        .executableTarget(
            name: "NodeInit",
            dependencies: [
                "NodeCommands", "RuntimeLayout", "OverlayCapture", "NodeSys", "NodeAgent", "NodeSaveClient",
                "LayerApply", "InitramfsBuild", "InitramfsImage",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        // Helpers shared by the test targets (seeded random numbers, hex frames); never linked into nodeinit.
        .target(name: "TestSupport", dependencies: ["BootConfig"], path: "Tests/TestSupport"),
        .testTarget(name: "NetworkAddressesTests", dependencies: ["NetworkAddresses"]),
        .testTarget(
            name: "JSONCodingTests",
            dependencies: ["JSONCoding", "BootConfig", "OverlayCapture", "TestSupport"]),
        .testTarget(name: "BootConfigTests", dependencies: ["BootConfig", "TestSupport"]),
        .testTarget(name: "NodeSysTests", dependencies: ["NodeSys", "TestSupport"]),
        .testTarget(
            name: "NodeBootTests",
            dependencies: [
                "NodeBoot", "NodeSys", "NodeNetwork", "NodeAgent", "BootConfig", "RuntimeLayout",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(name: "NodeNetworkTests", dependencies: ["NodeNetwork", "NodeSys", "TestSupport"]),
        .testTarget(
            name: "OverlayCaptureTests", dependencies: ["OverlayCapture", "LayerApply", "NodeSys", "LayerCompression"],
            exclude: ["Scripts"]),
        .testTarget(
            name: "NodeAgentTests",
            dependencies: ["NodeAgent", "NodeSaveClient", "NodeSys", "OverlayCapture", "LayerApply", "TestSupport"]),
        // At least 1,000,000 generated inputs per run over the parsers that take remote or admin-written data
        // (tar/PAX, HTTP head, chunked, kernel command line + planner, xCAT tables, DHCP, DNS). Seeded:
        // NODEINIT_FUZZ_SEED replays a run, NODEINIT_FUZZ_SCALE scales the input counts.
        .testTarget(
            name: "ParserFuzzTests",
            dependencies: [
                "OverlayCapture", "LayerApply", "NodeAgent", "NodeSaveClient", "BootConfig", "NodeNetwork",
                "NetworkAddresses", "NodeSys", "LayerCompression", "TestSupport",
            ]),
        .testTarget(
            name: "InitramfsTests",
            dependencies: ["InitramfsBuild", "InitramfsImage", "NodeSys", "LayerCompression"]),
        .testTarget(
            name: "StateliteTests",
            dependencies: [
                "NodeBoot", "TLSClient", "NodeSys", "BlockDevices", "NFSFiles", "BootConfig", "OverlayCapture",
                "RuntimeLayout", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]),
    ]
)
