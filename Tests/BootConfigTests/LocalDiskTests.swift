import Foundation
import Testing

@testable import BootConfig

/// `nodeinit.localdisk=<devspec>`: the local file system for xCAT `localdisk` litefile entries.
@Suite struct LocalDiskTests {
    struct Form: Sendable, CustomStringConvertible {
        var value: String
        var device: DeviceSpec
        var description: String { value }
    }

    static let forms: [Form] = [
        Form(value: "LABEL=sllocal", device: .label("sllocal")),
        Form(value: "UUID=0e6a11c2-9d3b-4c7e-8f00-1a2b3c4d5e6f", device: .uuid("0e6a11c2-9d3b-4c7e-8f00-1a2b3c4d5e6f")),
        Form(value: "PARTUUID=abcd-01", device: .partUUID("abcd-01")),
        Form(value: "PARTLABEL=scratch", device: .partLabel("scratch")),
        Form(value: "/dev/vdb1", device: .path("/dev/vdb1")),
        Form(
            value: "/dev/disk/by-path/pci-0000:00:1f.2-ata-1", device: .path("/dev/disk/by-path/pci-0000:00:1f.2-ata-1")
        ),
    ]

    @Test(arguments: forms)
    func devspecForms(_ form: Form) throws {
        let plan = try BootPlanner.plan(
            BootInputs(commandLine: KernelCommandLine("root=nfs:10.0.0.1:/img nodeinit.localdisk=\(form.value)")))
        let disk = try #require(plan.statelite.localDisk)
        #expect(
            disk == LocalDiskPlan(device: form.device, mountPoint: "/.sllocal/localmnt", logMountPoint: "/.sllocal/log")
        )
        // Naming a local disk is statelite: the disk is mounted even when only the image holds the tables.
        #expect(plan.statelite.enabled)
        #expect(plan.steps.contains(.mountLocalDisk))
        #expect(!plan.warnings.contains { $0.contains("nodeinit.localdisk") })
    }

    @Test func absentByDefaultAndLastOneWins() throws {
        let none = try BootPlanner.plan(BootInputs(commandLine: KernelCommandLine("root=nfs:10.0.0.1:/img STATEMNT=")))
        #expect(none.statelite.localDisk == nil)
        #expect(!none.steps.contains(.mountLocalDisk))
        let twice = try BootPlanner.plan(
            BootInputs(
                commandLine: KernelCommandLine(
                    "root=nfs:10.0.0.1:/img nodeinit.localdisk=LABEL=old nodeinit.localdisk=LABEL=new")))
        #expect(twice.statelite.localDisk?.device == .label("new"))
    }

    /// xCAT's order: STATEMNT, then rc.localdisk, then the litefile entries.
    @Test func stepOrderAfterStatemntBeforeLitefileEntries() throws {
        let plan = try BootPlanner.plan(
            BootInputs(
                commandLine: KernelCommandLine(
                    "root=nfs:10.0.0.1:/img STATEMNT=10.0.0.1:/state NODE=n1 nodeinit.localdisk=LABEL=sllocal shell"),
                litefile: .init(
                    name: "lf.csv", text: "#image,file,options,comments,disable\nALL,/var/cache/local/,localdisk,,\n")))
        let statemnt = try #require(plan.steps.firstIndex(of: .mountStatemnt))
        let localDisk = try #require(plan.steps.firstIndex(of: .mountLocalDisk))
        let entry = try #require(
            plan.steps.firstIndex { if case .applyLitefile = $0 { return true } else { return false } })
        #expect(statemnt < localDisk && localDisk < entry)
        #expect(plan.steps[localDisk + 1] == .pause(point: .afterStatemnt))
    }

    static let litefile = BootInputs.Table(
        name: "lf.csv",
        text: "#image,file,options,comments,disable\nALL,/var/cache/local/,localdisk,,\nALL,/etc/motd,ro,,\n")
    static let noDiskWarning =
        "localdisk entries but no local disk (nodeinit.localdisk=<devspec>; xCAT: PARTITION_RH): they are kept in RAM and lost at reboot"

    @Test func warningOnlyForLocaldiskEntriesWithoutADisk() throws {
        let without = try BootPlanner.plan(
            BootInputs(commandLine: KernelCommandLine("NFSROOT=10.0.0.1:/img STATEMNT="), litefile: Self.litefile))
        #expect(without.warnings.filter { $0 == Self.noDiskWarning }.count == 1)
        let with = try BootPlanner.plan(
            BootInputs(
                commandLine: KernelCommandLine("NFSROOT=10.0.0.1:/img STATEMNT= nodeinit.localdisk=LABEL=sllocal"),
                litefile: Self.litefile))
        #expect(!with.warnings.contains { $0.contains("localdisk") })
        let noEntries = try BootPlanner.plan(
            BootInputs(
                commandLine: KernelCommandLine("NFSROOT=10.0.0.1:/img STATEMNT="),
                litefile: .init(name: "lf.csv", text: "#image,file,options,comments,disable\nALL,/etc/motd,ro,,\n")))
        #expect(!noEntries.warnings.contains { $0.contains("localdisk") })
    }

    @Test func renderedByPlan() throws {
        let plan = try BootPlanner.plan(
            BootInputs(
                commandLine: KernelCommandLine(
                    #"root=nfs:10.0.0.1:/img "nodeinit.localdisk=LABEL=sl local" rd.timeout=30"#)))
        #expect(plan.statelite.localDisk?.device == .label("sl local"))
        let text = plan.renderText()
        #expect(text.contains(". mount tmpfs on /sysroot/.sllocal/log\n"))
        #expect(
            text.contains(
                #"     wait for local disk LABEL=sl local (/dev/disk/by-label/sl\x20local), mount it read-write on /sysroot/.sllocal/localmnt"#
                    + "\n"))
        #expect(text.contains("     wait up to 30 s\n"))
        #expect(text.contains("     no device or no file system on it: localdisk entries stay in RAM (warning)\n"))
        let forever = try BootPlanner.plan(
            BootInputs(commandLine: KernelCommandLine("root=nfs:10.0.0.1:/img nodeinit.localdisk=/dev/vdb")))
        #expect(
            forever.renderText().contains(
                "     wait for local disk /dev/vdb (/dev/vdb), mount it read-write on /sysroot/.sllocal/localmnt\n     wait without limit (rd.timeout=0)\n"
            ))
    }

    @Test func jsonRoundTripAndPlansWithoutTheField() throws {
        let plan = try BootPlanner.plan(
            BootInputs(commandLine: KernelCommandLine("root=nfs:10.0.0.1:/img nodeinit.localdisk=PARTLABEL=scratch")))
        let data = try JSONEncoder().encode(plan)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains(#""localDisk":{"#))
        #expect(text.contains(#""device":"PARTLABEL=scratch""#))
        #expect(try JSONDecoder().decode(BootPlan.self, from: data) == plan)
        // A plan written before the field existed still decodes (no local disk).
        let older = try BootPlanner.plan(BootInputs(commandLine: KernelCommandLine("root=nfs:10.0.0.1:/img STATEMNT=")))
        var object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(older)) as? [String: Any])
        var statelite = try #require(object["statelite"] as? [String: Any])
        statelite.removeValue(forKey: "localDisk")
        object["statelite"] = statelite
        let decoded = try JSONDecoder().decode(BootPlan.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(decoded.statelite.localDisk == nil)
        #expect(decoded == older)
    }

    @Test func nearMissIsWarned() throws {
        let plan = try BootPlanner.plan(
            BootInputs(commandLine: KernelCommandLine("root=nfs:a:/b nodeinit.localdsk=LABEL=x")))
        #expect(plan.warnings.contains("unknown parameter nodeinit.localdsk: did you mean nodeinit.localdisk?"))
        #expect(plan.statelite.localDisk == nil)
    }
}
