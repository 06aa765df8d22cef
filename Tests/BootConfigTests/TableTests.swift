import Testing

@testable import BootConfig

@Suite struct TabdumpCSVTests {
    @Test func quotesCommasCommentsAndDisable() throws {
        let text = #"""
            #image,file,options,comments,disable
            "ALL","/etc/a","tmpfs","a comment, with a comma",
            # a comment line with "an odd quote
            "img","/etc/b",,"say ""hi""",""
              "ALL" , "/etc/c" , "ro" , , "1"
            "ALL","/etc/d","persistent","multi
            line comment","yes"
            ALL,/etc/e,link,,0
            """#
        let rows = try TabdumpCSV.parse(text, file: "litefile", columns: LitefileTable.columns)
        #expect(
            rows.map(\.values) == [
                ["ALL", "/etc/a", "tmpfs", "a comment, with a comma", ""],
                ["img", "/etc/b", "", "say \"hi\"", ""],
                ["ALL", "/etc/e", "link", "", "0"],
            ])
        #expect(rows.map(\.line) == [2, 4, 8])
    }

    @Test func headerMapsColumnsByName() throws {
        let text = "#file,image,options\n\"/etc/x\",\"ALL\",\"rw\"\n"
        let rows = try TabdumpCSV.parse(text, file: "f", columns: ["image", "file", "options"])
        #expect(rows.first?.values == ["ALL", "/etc/x", "rw"])
    }

    struct BadCase: Sendable, CustomStringConvertible {
        var text: String
        var message: String
        var description: String { message }
    }

    @Test(arguments: [
        BadCase(
            text: "#image,file,options,comments,disable\n\"ALL\",\"/etc/a\n",
            message: "litefile:2: quoted field is never closed"),
        BadCase(text: "\"ALL\"x,\"/etc/a\",,,\n", message: "litefile:1: field 1: text after the closing quote"),
        BadCase(text: "\n\nALL,/etc/a\"b,,,\n", message: "litefile:3: field 2: a quote inside an unquoted field"),
        BadCase(
            text: "ALL,/etc/a,,,,,surprise\n",
            message: "litefile:1: field 7 is beyond the table's columns and not empty"),
        BadCase(
            text: "#image,file,comments\nALL,/etc/a,\n", message: "litefile:1: header lacks column(s) options, disable"),
    ])
    func malformedCSV(_ testCase: BadCase) {
        #expect(throws: TabdumpCSV.Error.self) {
            try TabdumpCSV.parse(testCase.text, file: "litefile", columns: LitefileTable.columns)
        }
        do {
            _ = try TabdumpCSV.parse(testCase.text, file: "litefile", columns: LitefileTable.columns)
        } catch {
            #expect(error.description == testCase.message)
        }
    }
}

@Suite struct LitefileTests {
    @Test func redhatCookbookSample() throws {
        let rows = try LitefileTable.parse(CookbookFixtures.redhatLitefile, file: "redhat.csv")
        #expect(rows.count == 42)
        #expect(rows.allSatisfy { $0.option == .link && $0.image == "ALL" && $0.optionSpelling.isEmpty })
        let merged = try LitefileTable.merged(rows, image: "centos5.3-x86_64-all", file: "redhat.csv")
        #expect(merged.count == 42)  // /etc/mtab is in the sample, so nothing is added
        #expect(merged.first?.path == "/etc/adjtime")
        #expect(merged.last?.path == "/xcatpost/")
        #expect(merged.map(\.path) == merged.map(\.path).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
    }

    @Test func slesCookbookSample() throws {
        let rows = try LitefileTable.parse(CookbookFixtures.slesLitefile, file: "sles.csv")
        #expect(rows.count == 24)
        #expect(rows.contains { $0.path == "/root/.bash_history" && $0.option == .link })
        let merged = try LitefileTable.merged(rows, image: nil, file: "sles.csv")
        #expect(merged.count == 24)
    }

    @Test(arguments: [
        ("", LitefileOption.link), ("link", .link), ("tmpfs,rw", .link), ("tmpfs", .tmpfs), ("rw", .tmpfs),
        ("bind", .tmpfs), ("persistent", .persistent), ("bind,persistent", .persistent),
        ("link,persistent", .linkPersistent), ("ro", .readOnly), ("link,ro", .linkReadOnly), ("con", .concatenate),
        ("link,con", .linkConcatenate), ("localdisk", .localdisk), ("link, persistent", .linkPersistent),
    ])
    func everyOptionSpelling(_ spelling: String, _ option: LitefileOption) throws {
        let rows = try LitefileTable.parse("\"ALL\",\"/etc/motd\",\"\(spelling)\",,\n", file: "f")
        #expect(rows.first?.option == option)
        #expect(rows.first?.optionSpelling == spelling)
    }

    @Test func mergeOrderAndImageSelection() throws {
        let text = """
            #image,file,options,comments,disable
            "img1","/etc/x","persistent",,
            "ALL","/etc/x","tmpfs",,
            "","/etc/x","ro",,
            "other","/etc/y","tmpfs",,
            "","/etc/mtab","link",,
            """
        let rows = try LitefileTable.parse(text, file: "f")
        #expect(
            try LitefileTable.merged(rows, image: "img1", file: "f").first { $0.path == "/etc/x" }?.option
                == .persistent)
        #expect(
            try LitefileTable.merged(rows, image: "img2", file: "f").first { $0.path == "/etc/x" }?.option == .tmpfs)
        #expect(try LitefileTable.merged(rows, image: "img2", file: "f").contains { $0.path == "/etc/y" } == false)
    }

    @Test func mtabIsAddedAsXcatDoes() throws {
        let rows = try LitefileTable.parse("ALL,/etc/motd,tmpfs,,\n", file: "f")
        let merged = try LitefileTable.merged(rows, image: nil, file: "f")
        #expect(merged.map(\.path) == ["/etc/motd", "/etc/mtab"])
        #expect(merged.last?.line == 0)
    }

    struct Bad: Sendable, CustomStringConvertible {
        var rows: String
        var message: String
        var description: String { message }
    }

    @Test(arguments: [
        Bad(rows: "ALL,etc/motd,,,\n", message: "lf:1: \"etc/motd\" is not an absolute path"),
        Bad(rows: "ALL,/etc/motd,tempfs,,\n", message: "lf:1: unknown option \"tempfs\" for /etc/motd"),
        Bad(rows: "ALL,/etc/ssh/,con,,\n", message: "lf:1: con applies only to files, and /etc/ssh/ is a directory"),
        Bad(rows: "ALL,/etc/ssh/,link,con,,x\n", message: "lf:1: field 6 is beyond"),
        Bad(rows: "ALL,\"/etc/my file\",,,\n", message: "lf:1: \"/etc/my file\" contains whitespace"),
        Bad(rows: "ALL,/etc/../x,,,\n", message: "lf:1: \"/etc/../x\" has empty, . or .. components"),
        Bad(rows: "ALL,,,,\n", message: "lf:1: empty file name"),
        Bad(
            rows: "ALL,/opt/,ro,,\nALL,/opt/a,ro,,\n",
            message: "lf:2: /opt/a under /opt/: a ro directory cannot have entries below it"),
        Bad(
            rows: "ALL,/var/,link,,\nALL,/var/log/,tmpfs,,\n",
            message: "lf:2: /var/log/ under /var/: children of a link-type directory must be link-type, not tmpfs"),
        Bad(rows: "ALL,/var/,,,\nALL,/var/a,link,ro,,1\n", message: "lf:2: field 6 is beyond"),
        Bad(
            rows: "ALL,/var/,,,\nALL,/var/a,\"link,ro\",,\n",
            message: "lf:2: /var/a under /var/: link,ro is not allowed under a link-type directory"),
        Bad(
            rows: "ALL,/var/,tmpfs,,\nALL,/var/a,\"link,persistent\",,\n",
            message: "lf:2: /var/a under /var/: children of a tmpfs directory cannot be link-type (link,persistent)"),
        Bad(
            rows: "ALL,/srv/,persistent,,\nALL,/srv/a/b,tmpfs,,\n",
            message: "lf:2: /srv/a/b under /srv/: children of a persistent directory must be persistent too, not tmpfs"),
        // The statelite guide's hierarchy table (advanced_features.rst): P:link,persistent with C:link, C:link,ro or
        // C:link,con is "NOT permitted"; liteimg says the child "should have persistent option like" the parent.
        Bad(
            rows:
                "\"ALL\",\"/root/testlinkpers/\",\"link,persistent\",,\n\"ALL\",\"/root/testlinkpers/testlinkchild\",\"link\",,\n",
            message:
                "lf:2: /root/testlinkpers/testlinkchild under /root/testlinkpers/: children of a link,persistent directory must be persistent too, not link"
        ),
        Bad(
            rows: "ALL,/root/lp/,\"link,persistent\",,\nALL,/root/lp/c,\"link,con\",,\n",
            message:
                "lf:2: /root/lp/c under /root/lp/: children of a link,persistent directory must be persistent too, not link,con"
        ),
        Bad(
            rows: "ALL,/root/lp/,\"link,persistent\",,\nALL,/root/lp/c,\"link,ro\",,\n",
            message: "lf:2: /root/lp/c under /root/lp/: link,ro is not allowed under a link-type directory"),
        Bad(
            rows: "ALL,/root/lp/,\"link,persistent\",,\nALL,/root/lp/a/b/c,,,\n",
            message:
                "lf:2: /root/lp/a/b/c under /root/lp/: children of a link,persistent directory must be persistent too, not blank"
        ),
        Bad(
            rows: "ALL,/root/lp/,\"link,persistent\",,\nALL,/root/lp/c,persistent,,\n",
            message:
                "lf:2: /root/lp/c under /root/lp/: children of a link-type directory must be link-type, not persistent"),
    ])
    func liteimgRules(_ bad: Bad) {
        do {
            let rows = try LitefileTable.parse(bad.rows, file: "lf")
            _ = try LitefileTable.merged(rows, image: nil, file: "lf")
            Issue.record("accepted \(bad.rows)")
        } catch let error as any BootConfigError {
            #expect(error.description.hasPrefix(bad.message), "\(error.description)")
        } catch {
            Issue.record("unexpected error type \(error)")
        }
    }

    @Test func allowedCombinations() throws {
        let text = """
            ALL,/var/,,,
            ALL,/var/lib/,link,,
            ALL,/var/lib/x,"link,persistent",,
            ALL,/etc/,tmpfs,,
            ALL,/etc/mtab,link,,
            ALL,/etc/ssh/,persistent,,
            ALL,/srv/,persistent,,
            ALL,/srv/data/,bind,persistent,,
            ALL,/root/testlinkpers/,"link,persistent",,
            ALL,/root/testlinkpers/testlinkchild,"link,persistent",,
            ALL,/root/testlink/,link,,
            ALL,/root/testlink/testlinkchild,"link,persistent",,
            ALL,/root/testlink/testlinkconchild,"link,con",,
            """
        _ = try LitefileTable.merged(try LitefileTable.parse(text.replacingBind(), file: "f"), image: nil, file: "f")
    }
}

extension String {
    /// `bind,persistent` in a bare CSV field must be quoted; the test text keeps it readable.
    fileprivate func replacingBind() -> String {
        var out = ""
        for line in splitKeepingEmpty(on: "\n") {
            out += line.hasSuffix("bind,persistent,,") ? "ALL,/srv/data/,\"bind,persistent\",," : line
            out += "\n"
        }
        return out
    }
}

@Suite struct LitetreeAndStateliteTests {
    @Test func cookbookLitetreeWithVariables() throws {
        let plan = try BootPlanner.plan(
            BootInputs(
                commandLine: KernelCommandLine(
                    "NFSROOT=10.0.0.1:/install/netboot/rhels9/x86_64/compute NODE=cn1 STATEMNT="),
                litefile: BootInputs.Table(
                    name: "litefile", text: "ALL,/etc/motd,ro,,\nALL,/etc/ssh/,,,\nALL,/etc/ssh/sshd_config,link,,\n"),
                litetree: BootInputs.Table(name: "litetree", text: CookbookFixtures.litetree)))
        #expect(
            plan.statelite.treeMounts.map(\.mountPoint) == [
                "/.statelite/mnt/10.0.0.1/statelite/cn1", "/.statelite/mnt/cnfs/gpfs/dallas",
            ])
        #expect(
            plan.statelite.treeMounts.first?.attempts.map(\.options) == [
                "vers=4.2,ro", "vers=4.1,ro", "vers=3,ro,nolock",
            ])
        let motd = plan.statelite.entries.first { $0.path == "/etc/motd" }
        #expect(
            motd?.sources == [
                "/.statelite/mnt/10.0.0.1/statelite/cn1/etc/motd", "/.statelite/mnt/cnfs/gpfs/dallas/etc/motd",
                "/.default/etc/motd",
                "/etc/motd",
            ])
        #expect(plan.statelite.entries.map(\.path) == ["/etc/motd", "/etc/mtab", "/etc/ssh/", "/etc/ssh/sshd_config"])
        #expect(plan.statelite.entries.last?.parent == "/etc/ssh/")
        #expect(plan.statelite.statemnt == nil)
    }

    @Test func litetreeMissingAttributeBecomesUndefined() throws {
        let plan = try BootPlanner.plan(
            BootInputs(
                commandLine: KernelCommandLine("NFSROOT=10.0.0.1:/img NODE=cn1"),
                litetree: BootInputs.Table(
                    name: "lt", text: "1,,\"10.0.0.2:/trees/$nodepos.room/$nodetype.os\",\"vers=3,noac\",,\n")))
        #expect(plan.statelite.treeMounts.first?.directory == "/trees/UNDEFINED/UNDEFINED")
        #expect(plan.statelite.treeMounts.first?.attempts.map(\.options) == ["vers=3,ro,nolock,noac"])
        #expect(plan.warnings.contains { $0.contains("$nodepos.room") })
        let given = try BootPlanner.plan(
            BootInputs(
                commandLine: KernelCommandLine(
                    "NFSROOT=10.0.0.1:/img NODE=cn1 nodeinit.attr.nodepos.room=tokyo nodeinit.attr.nodetype.os=rhels9"),
                litetree: BootInputs.Table(
                    name: "lt", text: "1,,\"10.0.0.2:/trees/$nodepos.room/$nodetype.os//x\",,,\n")))
        #expect(given.statelite.treeMounts.first?.directory == "/trees/tokyo/rhels9/x")
    }

    @Test func litetreePrioritiesAndImages() throws {
        let text = """
            #priority,image,directory,mntopts,comments,disable
            "10",,"s1:/ten",,,
            "2","ALL","s2:/two",,,
            "2","img","s3:/two-img",,,
            "1.5",,"/in/image",,,
            "3","other","s4:/x",,,
            "1",,"s5:/off",,,"1"
            """
        let rows = LitetreeTable.merged(try LitetreeTable.parse(text, file: "lt"), image: "img")
        #expect(rows.map(\.directory) == ["/in/image", "s3:/two-img", "s1:/ten"])
    }

    @Test func stateliteTableForNodeAndGroup() throws {
        let forNode = try BootPlanner.plan(
            BootInputs(
                commandLine: KernelCommandLine("NFSROOT=10.0.0.1:/img NODE=jfe01"),
                statelite: BootInputs.Table(name: "sl", text: CookbookFixtures.statelite)))
        #expect(forNode.statelite.statemnt?.server == "10.0.0.1")
        #expect(forNode.statelite.statemnt?.nodePath == "/lite/state/jfe01")
        #expect(forNode.statelite.statemnt?.attempts.map(\.options) == ["vers=3,nolock"])
        #expect(forNode.statelite.statemnt?.origin == "sl:3")
        let forGroup = try BootPlanner.plan(
            BootInputs(
                commandLine: KernelCommandLine("NFSROOT=10.0.0.1:/img NODE=cn9 nodeinit.groups=compute,japan"),
                statelite: BootInputs.Table(name: "sl", text: CookbookFixtures.statelite)))
        #expect(forGroup.statelite.statemnt?.server == "cnfs")
        #expect(forGroup.statelite.statemnt?.nodePath == "/gpfs/state/cn9")
        #expect(
            forGroup.statelite.statemnt?.attempts.map(\.options) == [
                "vers=4.2,nolock,rsize=32768,tcp,timeo=14", "vers=4.1,nolock,rsize=32768,tcp,timeo=14",
                "vers=3,nolock,rsize=32768,tcp,timeo=14",
            ])
        let commandLineWins = try BootPlanner.plan(
            BootInputs(
                commandLine: KernelCommandLine("NFSROOT=10.0.0.1:/img NODE=jfe01 STATEMNT="),
                statelite: BootInputs.Table(name: "sl", text: CookbookFixtures.statelite)))
        #expect(commandLineWins.statelite.statemnt == nil)
    }

    @Test func ambiguousStateliteRows() {
        #expect(throws: StateliteTable.Error.ambiguous(file: "sl", lines: [1, 2], key: "cn1")) {
            try BootPlanner.plan(
                BootInputs(
                    commandLine: KernelCommandLine("NFSROOT=10.0.0.1:/img NODE=cn1"),
                    statelite: BootInputs.Table(name: "sl", text: "cn1,,a:/x,,\ncn1,ALL,b:/y,,\n")))
        }
    }

    @Test func nodeVariableNeedsTheNodeName() {
        do {
            _ = try BootPlanner.plan(
                BootInputs(
                    commandLine: KernelCommandLine("NFSROOT=10.0.0.1:/img"),
                    litetree: BootInputs.Table(name: "lt", text: CookbookFixtures.litetree)))
            Issue.record("accepted $node without a node name")
        } catch let error as any BootConfigError {
            #expect(error.description == "lt:2: $node needs the node name: give NODE= (or a host name in ip=)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
