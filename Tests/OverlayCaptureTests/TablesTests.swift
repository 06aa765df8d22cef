import NodeSys
import Testing

@testable import LayerApply
@testable import OverlayCapture

struct LayerPathTests {
    @Test(arguments: [
        ("etc/passwd", ["etc", "passwd"]),
        ("./etc/passwd", ["etc", "passwd"]),
        ("etc//x/./y/", ["etc", "x", "y"]),
        (".", []),
        ("./", []),
        ("a/.wh..wh..opq", ["a", ".wh..wh..opq"]),
    ])
    func acceptedNames(_ name: String, _ components: [String]) throws {
        #expect(try LayerPath.components(PathBytes(name)) == components.map { PathBytes($0) })
    }

    @Test(arguments: [
        ("../x", LayerPath.Error.parentComponent("../x")),
        ("a/../../x", .parentComponent("a/../../x")),
        ("a/..", .parentComponent("a/..")),
        ("/etc/x", .absolute("/etc/x")),
        ("//etc", .absolute("//etc")),
    ])
    func refusedNames(_ name: String, _ error: LayerPath.Error) {
        #expect(throws: error) { try LayerPath.components(PathBytes(name)) }
    }

    @Test(arguments: [
        (".wh.foo", LayerPath.Meaning.whiteout("foo")),
        (".wh..wh..opq", .opaque),
        ("foo", .entry("foo")),
        (".whx", .entry(".whx")),
    ])
    func meanings(_ component: String, _ meaning: LayerPath.Meaning) throws {
        #expect(try LayerPath.meaning(of: PathBytes(component), in: PathBytes(component)) == meaning)
    }

    @Test(arguments: [".wh.", ".wh..", ".wh...", ".wh..wh.x"])
    func badWhiteouts(_ component: String) {
        #expect(throws: LayerPath.Error.badWhiteout(PathBytes(component))) {
            try LayerPath.meaning(of: PathBytes(component), in: PathBytes(component))
        }
    }
}

struct ExclusionListTests {
    static func split(_ path: String) -> [Substring] { path.split(separator: "/") }

    @Test(arguments: [
        ("/tmp/x", true), ("/tmp", false), ("/tmp/a/b", true), ("/var/tmp/x", true), ("/tmpfoo/x", false),
        ("/var/cache/apt/archives/vim.deb", true), ("/var/cache/apt/archives/lock", false),
        ("/var/cache/apt/pkgcache.bin", true), ("/etc/machine-id", true), ("/etc/machine-id.bak", false),
        ("/etc/passwd", false), ("/var/lib/apt/lists/x", false), ("/run/x", true), ("/dev/console", true),
    ])
    func defaults(_ path: String, _ excluded: Bool) throws {
        let list = try ExclusionList(ExclusionList.defaultPatterns)
        #expect(list.excludes(Self.split(path)) == excluded)
    }

    @Test func extraPatternsAndFileSyntax() throws {
        var list = try ExclusionList(["/srv/data", "*.pyc"])
        try list.addFile("# comment\n\n/home/*/.cache\n  /opt/x?  \n__pycache__\n")
        #expect(list.excludes(Self.split("/srv/data")))
        #expect(list.excludes(Self.split("/srv/data/deep/file")))
        #expect(!list.excludes(Self.split("/srv/database")))
        #expect(list.excludes(Self.split("/usr/lib/python3/a.pyc")))
        #expect(list.excludes(Self.split("/home/bob/.cache/x")))
        #expect(!list.excludes(Self.split("/home/bob/.config")))
        #expect(list.excludes(Self.split("/opt/x1")))
        #expect(!list.excludes(Self.split("/opt/x12")))
        #expect(list.excludes(Self.split("/usr/lib/__pycache__")))
        #expect(throws: ExclusionList.Error.relativePattern("var/x")) { try ExclusionList(["var/x"]) }
    }

    @Test(arguments: [
        ("*", "abc", true), ("a*c", "abbbc", true), ("a*c", "abcd", false), ("?b", "ab", true),
        ("*.deb", ".deb", true), ("x*y*z", "xyz", true), ("x*y*z", "xzy", false),
    ])
    func glob(_ pattern: String, _ name: String, _ matches: Bool) {
        #expect(ExclusionList.glob(Array(pattern.utf8), Array(name.utf8)) == matches)
    }
}

struct OwnerNamesTests {
    @Test func parsesPasswdAndGroup() {
        let names = OwnerNames(
            passwd:
                "root:x:0:0:root:/root:/bin/bash\n# c\nalice:x:1000:1000::/home/alice:/bin/sh\nbad\ndup:x:0:0::/:/bin/false\n",
            group: "root:x:0:\nusers:x:100:alice\n")
        #expect(names.users == [0: "root", 1000: "alice"])
        #expect(names.groups == [0: "root", 100: "users"])
    }
}
