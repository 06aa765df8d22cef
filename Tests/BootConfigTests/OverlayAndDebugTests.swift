import Testing

@testable import BootConfig

@Suite struct OverlaySpecTests {
    @Test func ovirtSeedDeviceAndPath() throws {
        let plan = try BootPlanner.plan(
            BootInputs(
                commandLine: KernelCommandLine("root=nfs:10.0.0.1:/img rd.live.overlay=/dev/sdb:/persist-hda.img")))
        guard case .device(let device) = plan.overlay else {
            Issue.record("expected a device overlay, got \(plan.overlay)")
            return
        }
        #expect(device.device == .path("/dev/sdb"))
        #expect(device.path == "/persist-hda.img")
        #expect(device.mounts.upperDir == "/run/nodeinit/overlay-device/persist-hda.img")
        #expect(device.mounts.workDir == "/run/nodeinit/overlay-device/ovlwork")
        #expect(plan.warnings.contains { $0.contains("rd.live.overlay is deprecated") })
        #expect(plan.steps.contains(.mountOverlayDevice))
    }

    struct Case: Sendable, CustomStringConvertible {
        var line: String
        var upper: OverlaySpec.Upper
        var description: String { line }
    }

    static let cases: [Case] = [
        Case(line: "", upper: .tmpfs(size: nil, nrInodes: nil)),
        Case(line: "rd.overlay", upper: .tmpfs(size: nil, nrInodes: nil)),
        Case(line: "rd.overlay=1", upper: .tmpfs(size: nil, nrInodes: nil)),
        Case(line: "rd.overlay=0", upper: .disabled),
        Case(line: "rd.overlay=none", upper: .disabled),
        Case(line: "rd.overlay=tmpfs:size=2G,nr_inodes=1m", upper: .tmpfs(size: "2G", nrInodes: "1m")),
        // dracut-ng's prepare-overlayfs.sh passes size, nr_blocks and nr_inodes to the tmpfs; size and nr_blocks are
        // one limit, the later one wins (as in the kernel's shmem option parser).
        Case(line: "rd.overlay=tmpfs:size=50%,nr_blocks=4", upper: .tmpfs(size: nil, nrInodes: nil, nrBlocks: "4")),
        Case(line: "rd.overlay=tmpfs:nr_blocks=4,size=50%", upper: .tmpfs(size: "50%", nrInodes: nil)),
        Case(
            line: "rd.overlay=tmpfs:nr_blocks=262144,nr_inodes=100k",
            upper: .tmpfs(size: nil, nrInodes: "100k", nrBlocks: "262144")),
        Case(line: "rd.overlay=tmpfs:nr_blocks=1G", upper: .tmpfs(size: nil, nrInodes: nil, nrBlocks: "1G")),
        Case(line: "rd.overlay=LABEL=scratch", upper: .device(.label("scratch"), path: nil)),
        Case(line: "rd.overlay=UUID=0e6a-11:/upper", upper: .device(.uuid("0e6a-11"), path: "/upper")),
        Case(line: "rd.overlay=PARTUUID=abcd-01:auto", upper: .device(.partUUID("abcd-01"), path: nil)),
        Case(line: "rd.overlay=PARTLABEL=node state", upper: .device(.partLabel("node"), path: nil)),
        Case(
            line: "rd.overlay=/dev/disk/by-path/pci-0000:00:1f.2-ata-1:/ovl",
            upper: .device(.path("/dev/disk/by-path/pci-0000:00:1f.2-ata-1"), path: "/ovl")),
        Case(line: "rd.live.overlay=LABEL=x rd.overlay=1", upper: .device(.label("x"), path: nil)),
        Case(line: "rd.live.overlay.overlayfs=1", upper: .tmpfs(size: nil, nrInodes: nil)),
        Case(line: "rd.live.overlay=LABEL=x rd.overlay=tmpfs", upper: .tmpfs(size: nil, nrInodes: nil)),
    ]

    @Test(arguments: cases)
    func overlayForms(_ testCase: Case) throws {
        let spec = try OverlaySpec.parse(KernelCommandLine(testCase.line))
        #expect(spec.upper == testCase.upper)
    }

    /// Issue 10: the split at the last ':' was quadratic in the colons (100,000 took minutes). Not timed: the
    /// values only have to plan as before, the colons staying in the label and a path after them split off.
    @Test func hundredThousandColonsPlan() throws {
        let colons = String(repeating: ":", count: 100_000)
        let plan = try BootPlanner.plan(
            BootInputs(commandLine: KernelCommandLine("root=nfs:10.0.0.1:/img rd.overlay=LABEL=x" + colons)))
        guard case .device(let device) = plan.overlay else {
            Issue.record("expected a device overlay")
            return
        }
        #expect(device.device == .label("x" + colons))
        #expect(device.path == nil)
        let withPath = try OverlaySpec.parse(KernelCommandLine("rd.live.overlay=LABEL=x" + colons + ":/upper"))
        #expect(withPath.upper == .device(.label("x" + colons), path: "/upper"))
        let withAuto = try OverlaySpec.parse(KernelCommandLine("rd.overlay=LABEL=" + colons + "auto"))
        #expect(withAuto.upper == .device(.label(String(colons.dropLast())), path: nil))
    }

    @Test func persistentPolicies() throws {
        let plan = try BootPlanner.plan(
            BootInputs(
                commandLine: KernelCommandLine(
                    "root=nfs:a:/b rd.overlay=LABEL=state rd.overlay.reset rd.live.overlay.readonly=1 nodeinit.overlay.mismatch=fail nodeinit.overlay.required"
                )))
        guard case .device(let device) = plan.overlay else {
            Issue.record("expected device overlay")
            return
        }
        #expect(device.reset && device.readOnly && device.required)
        #expect(device.mismatchPolicy == .fail)
        #expect(device.mounts.lowerDir == "/run/nodeinit/overlay-device/overlay:/run/nodeinit/lower")
        #expect(device.mounts.upperDir == "/run/nodeinit/overlay/upper")
        #expect(
            plan.steps.firstIndex(of: .mountOverlayDevice).map {
                $0 < (plan.steps.firstIndex(of: .mountOverlayTmpfs) ?? 0)
            } == true)
        #expect(plan.warnings.contains { $0.contains("rd.live.overlay.readonly is deprecated") })
    }

    @Test func udevPaths() {
        #expect(DeviceSpec.label("my disk/1").udevPath == "/dev/disk/by-label/my\\x20disk\\x2f1")
        #expect(DeviceSpec.partUUID("ab").udevPath == "/dev/disk/by-partuuid/ab")
    }
}

@Suite struct DebugSpecTests {
    @Test func xcatShellPausesFourTimes() throws {
        let spec = try DebugSpec.parse(KernelCommandLine("NFSROOT=a:/b shell"))
        #expect(spec.pauses == [.afterRootMount, .afterOverlay, .afterStatemnt, .afterStatelite, .beforeSwitchRoot])
    }

    @Test(arguments: [
        ("rd.break", [ShellPoint.beforeSwitchRoot]),
        ("rd.break=pre-pivot", [.afterRootMount]),
        ("rd.break=cmdline rd.break=pre-mount,cleanup", [.beforeModules, .beforeRootMount, .beforeSwitchRoot]),
        ("rd.break=initqueue rd.break=mount", [.beforeNetwork, .beforeRootMount]),
        ("shell=1", []),
    ])
    func breakStages(_ line: String, _ expected: [ShellPoint]) throws {
        #expect(try DebugSpec.parse(KernelCommandLine(line)).pauses == expected)
    }

    @Test func failurePolicy() throws {
        let defaults = try DebugSpec.parse(KernelCommandLine(""))
        #expect(!defaults.shellOnFailure && defaults.emergencyAction == .reboot && defaults.retrySeconds == 180)
        #expect(defaults.deviceTimeoutSeconds == 0 && defaults.panicSeconds == nil && !defaults.verbose)
        let set = try DebugSpec.parse(
            KernelCommandLine("rd.emergency=reboot rd.retry=30 rd.timeout=20 panic=-1 rd.debug"))
        #expect(!set.shellOnFailure && set.emergencyAction == .reboot && set.retrySeconds == 30)
        #expect(set.deviceTimeoutSeconds == 20 && set.panicSeconds == -1 && set.verbose)
        let both = try DebugSpec.parse(KernelCommandLine("rd.emergency=halt rd.shell"))
        #expect(both.shellOnFailure && both.emergencyAction == .halt)
        let xcat = try DebugSpec.parse(KernelCommandLine("shell"))
        #expect(xcat.shellOnFailure && xcat.emergencyAction == .reboot)
        let off = try DebugSpec.parse(KernelCommandLine("shell rd.shell=0"))
        #expect(!off.shellOnFailure)
    }

    /// The init's policy for failures before a plan exists: same rules, malformed values keep their default,
    /// and a command line that does not plan at all (bad root=) still gets it.
    @Test(arguments: [
        ("rd.shell rd.emergency=poweroff", true, EmergencyAction.poweroff),
        ("quiet", false, .reboot),
        ("shell", true, .reboot),
        ("shell=1", false, .reboot),
        ("rd.shell=yes", true, .reboot),
        ("rd.emergency=reboot", false, .reboot),
        ("shell rd.shell=0 rd.emergency=halt", false, .halt),
        ("rd.emergency=explode rd.shell", true, .reboot),
        ("shell rd.shell=perhaps rd.emergency=poweroff", true, .poweroff),
        ("root=nfs:: rd.break=nowhere rd.shell rd.emergency=halt", true, .halt),
    ])
    func lenientFailurePolicy(line: String, shell: Bool, action: EmergencyAction) throws {
        let policy = DebugSpec.lenientFailurePolicy(KernelCommandLine(line))
        #expect(policy.shellOnFailure == shell)
        #expect(policy.emergencyAction == action)
        if let plan = try? DebugSpec.parse(KernelCommandLine(line)) {
            #expect(plan.shellOnFailure == shell && plan.emergencyAction == action, "strict and lenient disagree")
        }
    }

    @Test func pausesAppearInStepOrder() throws {
        let plan = try BootPlanner.plan(
            BootInputs(
                commandLine: KernelCommandLine(
                    "NFSROOT=10.0.0.1:/install/img STATEMNT=10.0.0.1:/state NODE=cn1 shell rd.break=cmdline rd.break=initqueue"
                )))
        let pauses = plan.steps.compactMap { step -> ShellPoint? in
            if case .pause(let point) = step { return point }
            return nil
        }
        #expect(
            pauses == [
                .beforeModules, .beforeNetwork, .afterRootMount, .afterOverlay, .afterStatemnt, .afterStatelite,
                .beforeSwitchRoot,
            ])
        let statemnt = plan.steps.firstIndex(of: .mountStatemnt) ?? -1
        let pause2 = plan.steps.firstIndex(of: .pause(point: .afterStatemnt)) ?? -1
        #expect(statemnt >= 0 && statemnt < pause2)
        #expect(plan.steps.last == .switchRoot)
        #expect(plan.steps.dropLast().last == .pause(point: .beforeSwitchRoot))
    }
}
