import NodeSys
import Testing

/// The module closure an initramfs ships: dependencies, `pre:` soft dependencies through aliases, built-in and
/// unknown names, and the errors that name the module and the modules directory.
struct ModuleClosureTests {
    let dependencies = ModuleDependencies(
        parsing: """
            kernel/fs/nfs/nfsv4.ko: kernel/fs/nfs/nfs.ko kernel/net/sunrpc/sunrpc.ko
            kernel/fs/nfs/nfs.ko: kernel/net/sunrpc/sunrpc.ko
            kernel/net/sunrpc/sunrpc.ko:
            kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko
            kernel/lib/crc16.ko:
            kernel/crypto/crc32c_generic.ko:
            kernel/arch/x86/crypto/crc32c-intel.ko:
            kernel/drivers/broken/broken.ko: kernel/drivers/gone/gone.ko
            """)
    let aliases = ModuleAliases(
        parsing: """
            alias crypto-crc32c crc32c_generic
            alias crypto-crc32c* crc32c_intel
            alias crypto-builtin-only* nothing_shipped
            """)
    let softDependencies = ModuleSoftDependencies(
        parsing: "softdep ext4 pre: crypto-crc32c post: crypto-crc32c-extra\nsoftdep nfs post: sunrpc\n")
    let builtin: Set<ModuleName> = ["af_packet", "crc32c_generic_builtin"]

    func closure(_ lenient: [String], strict: [String] = []) throws(ModuleClosure.Error) -> ModuleClosure {
        try ModuleClosure(
            lenient: lenient, strict: strict, dependencies: dependencies, builtin: builtin, aliases: aliases,
            softDependencies: softDependencies, modulesDirectory: "/lib/modules/9.9.9")
    }

    @Test func dependenciesAreShippedTransitively() throws {
        #expect(try closure(["nfsv4"]).modules == ["nfs", "nfsv4", "sunrpc"])
    }

    @Test func preSoftDependenciesResolveThroughAliasesPostOnesAreLeftOut() throws {
        let result = try closure(["ext4"])
        #expect(result.modules == ["crc16", "crc32c_generic", "crc32c_intel", "ext4"])
        #expect(try closure(["nfs"]).modules == ["nfs", "sunrpc"])
    }

    @Test func builtinNamesAreSkippedAndReported() throws {
        let result = try closure(["af-packet", "nfs"])
        #expect(result.builtin == ["af-packet"])
        #expect(result.modules == ["nfs", "sunrpc"])
    }

    @Test func unknownListedNamesAreSkippedButUnknownExtraModulesAreErrors() throws {
        let result = try closure(["not_here", "nfs"])
        #expect(result.unknown == ["not_here"])
        #expect(throws: ModuleClosure.Error.unknownModule("not_here", modulesDirectory: "/lib/modules/9.9.9")) {
            try closure(["nfs"], strict: ["not_here"])
        }
        let message = "\(ModuleClosure.Error.unknownModule("not_here", modulesDirectory: "/lib/modules/9.9.9"))"
        #expect(message.contains("not_here") && message.contains("/lib/modules/9.9.9/modules.dep"))
    }

    @Test func aDependencyMissingFromModulesDepNamesBothModules() throws {
        #expect(
            throws: ModuleClosure.Error.missingDependency(
                "gone", neededBy: "broken", modulesDirectory: "/lib/modules/9.9.9")
        ) {
            try closure(["broken"])
        }
    }

    @Test func softdepLinesParse() {
        let parsed = ModuleSoftDependencies(
            parsing: "# comment\nsoftdep a pre: b c post: d pre: e\nsoftdep x-y post: z\nsoftdep lonely\n")
        #expect(parsed.pre == ["a": ["b", "c", "e"]])
    }
}
