import Testing

@testable import BootConfig

struct TokenizerCase: CustomStringConvertible, Sendable {
    var input: String
    var parameters: [String]  // "key=value" or "key" for bare words
    var initArguments: [String] = []
    var description: String { input }
}

@Suite struct KernelCommandLineTests {
    static let cases: [TokenizerCase] = [
        TokenizerCase(input: "ro quiet", parameters: ["ro", "quiet"]),
        TokenizerCase(input: "  a=1\tb=2\n", parameters: ["a=1", "b=2"]),
        TokenizerCase(input: "a=\"x y\" b", parameters: ["a=x y", "b"]),
        TokenizerCase(input: "\"a=x y\" b", parameters: ["a=x y", "b"]),
        TokenizerCase(input: "a=x\"y z\"w", parameters: ["a=x\"y z\"w"]),
        TokenizerCase(input: "a= b=", parameters: ["a=", "b="]),
        TokenizerCase(input: "a==b", parameters: ["a==b"]),
        TokenizerCase(input: "=a", parameters: ["=a"]),
        TokenizerCase(
            input: "root=nfs:s:/p -- single --foo x=y", parameters: ["root=nfs:s:/p"],
            initArguments: ["single", "--foo", "x=y"]),
        TokenizerCase(input: "a -- ", parameters: ["a"]),
        TokenizerCase(input: "--x a", parameters: ["--x", "a"]),
        TokenizerCase(input: "a=\"unterminated b c", parameters: ["a=unterminated b c"]),
        TokenizerCase(input: "\"", parameters: [""]),
        TokenizerCase(input: "MNTOPTS= console=ttyS0,115200n8r", parameters: ["MNTOPTS=", "console=ttyS0,115200n8r"]),
    ]

    @Test(arguments: cases)
    func tokenizes(_ testCase: TokenizerCase) {
        let commandLine = KernelCommandLine(testCase.input)
        let rendered = commandLine.parameters.map { p in p.value.map { "\(p.key)=\($0)" } ?? p.key }
        #expect(rendered == testCase.parameters)
        #expect(commandLine.initArguments == testCase.initArguments)
    }

    @Test func repeatedKeysKeepAllAndLastWins() {
        let commandLine = KernelCommandLine("ip=dhcp panic=1 nameserver=1.1.1.1 panic=15 nameserver=8.8.8.8 rd.break")
        #expect(commandLine.last("panic") == "15")
        #expect(commandLine.values("nameserver") == ["1.1.1.1", "8.8.8.8"])
        #expect(commandLine.contains("rd.break"))
        #expect(commandLine.last("rd.break") == nil)
        #expect(commandLine.all("ip").count == 1)
    }

    @Test func bytesWithInvalidUTF8AndTrailingNewline() {
        let commandLine = KernelCommandLine(bytes: Array("root=/dev/nfs x=\u{FF}\n".utf8) + [0xFF, 0x0A])
        #expect(commandLine.last("root") == "/dev/nfs")
        #expect(commandLine.parameters.count == 3)
    }

    @Test func moduleParametersTreatDashAndUnderscoreAlike() throws {
        let spec = try ModuleSpec.parse(
            KernelCommandLine(
                "nfs.nfs4-disable-idmapping=1 virtio_net.napi-tx=0 rd.driver.pre=virtio-net,e1000 rd.break=cmdline net.ifnames=0 modprobe.blacklist=floppy,pc-speaker"
            ))
        #expect(
            spec.parameters == [
                ModuleParameter(module: "nfs", name: "nfs4_disable_idmapping", value: "1"),
                ModuleParameter(module: "virtio_net", name: "napi_tx", value: "0"),
            ])
        #expect(spec.preload == ["virtio_net", "e1000"])
        #expect(spec.blacklist == ["floppy", "pc_speaker"])
    }

    @Test func moduleParametersReachTheLoadedModule() throws {
        let plan = try BootPlanner.plan(
            BootInputs(
                commandLine: KernelCommandLine(
                    "root=nfs:10.0.0.1:/img nfs.nfs4-disable-idmapping=1 nodeinit.modules=virtio-net virtio_net.napi_tx=0 e1000.debug=\"1 2\""
                )))
        #expect(plan.modules.load.map(\.name) == ["virtio_net", "nfs", "nfsv3", "nfsv4", "overlay"])
        #expect(plan.modules.load.first { $0.name == "nfs" }?.parameters == ["nfs4_disable_idmapping=1"])
        #expect(plan.modules.load.first?.parameters == ["napi_tx=0"])
        #expect(plan.modules.parameters.last == ModuleParameter(module: "e1000", name: "debug", value: "1 2"))
    }
}
