import Foundation
import NodeSys
import Testing

@testable import LayerApply
@testable import OverlayCapture

/// Header encoding checked byte for byte against Python's tarfile (USTAR format) and hand-computed PAX records.
struct TarHeaderTests {
    struct UstarCase: CustomStringConvertible, Sendable {
        var entry: TarEntry
        /// Python TarInfo attributes producing the same header.
        var python: String
        var description: String { entry.path.description }
    }

    static let mtime = FileTimestamp(seconds: 1_700_000_000, nanoseconds: 0)
    static let longPath =
        String(repeating: "p", count: 60) + "/" + String(repeating: "q", count: 60) + "/file-"
        + String(repeating: "r", count: 20)

    static let ustarCases: [UstarCase] = [
        UstarCase(
            entry: TarEntry(
                path: "hello.txt", kind: .regular, permissions: 0o644, uid: 1000, gid: 100,
                userName: "alice", groupName: "users", size: 5, modified: mtime),
            python:
                "t.name='hello.txt'; t.size=5; t.mode=0o644; t.uid=1000; t.gid=100; t.uname='alice'; t.gname='users'"),
        UstarCase(
            entry: TarEntry(
                path: "etc/", kind: .directory, permissions: 0o755, userName: "root", groupName: "root", modified: mtime
            ),
            python: "t.name='etc/'; t.type=tarfile.DIRTYPE; t.mode=0o755; t.uname='root'; t.gname='root'"),
        UstarCase(
            entry: TarEntry(path: "bin/sh", kind: .symlink(target: "busybox"), permissions: 0o777, modified: mtime),
            python:
                "t.name='bin/sh'; t.type=tarfile.SYMTYPE; t.linkname='busybox'; t.mode=0o777; t.uname=''; t.gname=''"),
        UstarCase(
            entry: TarEntry(
                path: "a/h", kind: .hardLink(target: "a/f"), permissions: 0o600, uid: 5, gid: 6, modified: mtime),
            python:
                "t.name='a/h'; t.type=tarfile.LNKTYPE; t.linkname='a/f'; t.mode=0o600; t.uid=5; t.gid=6; t.uname=''; t.gname=''"
        ),
        UstarCase(
            entry: TarEntry(
                path: "dev/null", kind: .characterDevice(major: 1, minor: 3), permissions: 0o666, modified: mtime),
            python:
                "t.name='dev/null'; t.type=tarfile.CHRTYPE; t.devmajor=1; t.devminor=3; t.mode=0o666; t.uname=''; t.gname=''"
        ),
        UstarCase(
            entry: TarEntry(
                path: "dev/sda", kind: .blockDevice(major: 8, minor: 0), permissions: 0o660, gid: 6, modified: mtime),
            python:
                "t.name='dev/sda'; t.type=tarfile.BLKTYPE; t.devmajor=8; t.devminor=0; t.mode=0o660; t.gid=6; t.uname=''; t.gname=''"
        ),
        UstarCase(
            entry: TarEntry(path: "run/fifo", kind: .fifo, permissions: 0o600, modified: mtime),
            python: "t.name='run/fifo'; t.type=tarfile.FIFOTYPE; t.mode=0o600; t.uname=''; t.gname=''"),
        UstarCase(
            entry: TarEntry(path: "usr/bin/su", kind: .regular, permissions: 0o4755, size: 70000, modified: mtime),
            python: "t.name='usr/bin/su'; t.size=70000; t.mode=0o4755; t.uname=''; t.gname=''"),
        UstarCase(
            entry: TarEntry(path: PathBytes(longPath), kind: .regular, permissions: 0o644, size: 1, modified: mtime),
            python: "t.name='\(longPath)'; t.size=1; t.mode=0o644; t.uname=''; t.gname=''"),
    ]

    @Test(arguments: ustarCases)
    func ustarHeaderMatchesPythonTarfile(_ testCase: UstarCase) throws {
        let script = """
            import sys, tarfile
            t = tarfile.TarInfo(); t.mtime = 1700000000; t.uid = 0; t.gid = 0
            \(testCase.python)
            sys.stdout.write(t.tobuf(format=tarfile.USTAR_FORMAT, encoding='utf-8', errors='strict').hex())
            """
        let expected = String(decoding: try TestSupport.run(["python3", "-c", script]), as: UTF8.self)
        let encoded = TarHeader.encode(testCase.entry)
        #expect(encoded.count == 512)
        #expect(TestSupport.hex(encoded) == expected)
    }

    @Test func ustarFieldsAtTheirOffsets() {
        let block = TarHeader.encode(UstarCase.sample)
        func field(_ at: Int, _ width: Int) -> String { String(decoding: block[at..<(at + width)], as: UTF8.self) }
        #expect(field(0, 9) == "hello.txt")
        #expect(field(100, 8) == "0000644\0")
        #expect(field(108, 8) == "0001750\0")
        #expect(field(124, 12) == "00000000005\0")
        #expect(field(136, 12) == "14524770400\0")
        #expect(block[156] == UInt8(ascii: "0"))
        #expect(field(257, 8) == "ustar\u{0}00")
        #expect(field(265, 5) == "alice")
        // Checksum: sum of all bytes with the checksum field read as spaces, 6 octal digits, NUL, space.
        var copy = block
        for index in 148..<156 { copy[index] = 0x20 }
        let sum = copy.reduce(0) { $0 + Int($1) }
        let digits = String(sum, radix: 8)
        #expect(field(148, 8) == String(repeating: "0", count: 6 - digits.count) + digits + "\0 ")
    }

    struct PaxCase: Sendable, CustomStringConvertible {
        var key: String
        var valueLength: Int
        var expectedLength: Int
        var description: String { "\(key) value \(valueLength)" }
    }

    /// Record lengths around the digit-count boundaries, where the length counts its own digits.
    @Test(arguments: [
        PaxCase(key: "path", valueLength: 1, expectedLength: 9),  // "9 path=x\n"
        PaxCase(key: "path", valueLength: 90, expectedLength: 99),
        PaxCase(key: "path", valueLength: 91, expectedLength: 101),  // 98 body bytes + 3 digits
        PaxCase(key: "path", valueLength: 92, expectedLength: 102),
        PaxCase(key: "linkpath", valueLength: 985, expectedLength: 999),
        PaxCase(key: "linkpath", valueLength: 986, expectedLength: 1001),  // 1000 would need 4 digits
        PaxCase(key: "linkpath", valueLength: 987, expectedLength: 1002),
    ])
    func paxRecordLengthCountsItsOwnDigits(_ testCase: PaxCase) {
        let record = TarHeader.paxRecord(
            key: testCase.key, value: [UInt8](repeating: UInt8(ascii: "x"), count: testCase.valueLength))
        #expect(record.count == testCase.expectedLength)
        let prefix = String(decoding: record.prefix { $0 != UInt8(ascii: " ") }, as: UTF8.self)
        #expect(prefix == String(testCase.expectedLength))
        #expect(record.last == UInt8(ascii: "\n"))
    }

    @Test(arguments: [
        (FileTimestamp(seconds: 1_700_000_000, nanoseconds: 500_000_000), "1700000000.5"),
        (FileTimestamp(seconds: 1, nanoseconds: 1), "1.000000001"),
        (FileTimestamp(seconds: 7, nanoseconds: 0), "7"),
        (FileTimestamp(seconds: -1, nanoseconds: 500_000_000), "-0.5"),
        (FileTimestamp(seconds: -2, nanoseconds: 0), "-2"),
    ])
    func paxTimeFormatting(_ time: FileTimestamp, _ text: String) {
        #expect(TarHeader.formatTime(time) == text)
        #expect(TarReader<MemorySource>.parseTime(text) == time)
    }

    /// A file over 8 GiB: base-256 size field plus a PAX size record; the reader takes the exact size back,
    /// all without writing any data.
    @Test func sizeOverEightGiBUsesPaxAndBase256() throws {
        let size: Int64 = 10 << 30
        let entry = TarEntry(path: "big.img", kind: .regular, size: size, modified: Self.mtime)
        let header = TarHeader.encode(entry)
        #expect(header.count == 3 * 512)
        let ustar = Array(header[1024..<1536])
        #expect(Array(ustar[124..<136]) == [0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x80, 0, 0, 0])
        let records = String(decoding: header[512..<1024].prefix { $0 != 0 }, as: UTF8.self)
        #expect(records == "20 size=10737418240\n")
        var reader = TarReader(source: MemorySource(header))
        defer { reader.close() }
        let read = try #require(try reader.next())
        #expect(read.size == size)
        #expect(read.path == "big.img")
    }

    @Test func largeIdsAndLongNamesGoToPax() throws {
        let entry = TarEntry(
            path: "f", kind: .regular, uid: 3_000_000, gid: 2_097_152, userName: String(repeating: "u", count: 40),
            groupName: "g", modified: FileTimestamp(seconds: 5, nanoseconds: 250_000_000))
        let header = TarHeader.encode(entry)
        let records = String(decoding: header[512..<1024].prefix { $0 != 0 }, as: UTF8.self)
        #expect(records.contains("uid=3000000\n"))
        #expect(records.contains("gid=2097152\n"))
        #expect(records.contains("uname=" + String(repeating: "u", count: 40) + "\n"))
        #expect(records.contains("mtime=5.25\n"))
        var reader = TarReader(source: MemorySource(header + [UInt8](repeating: 0, count: 1024)))
        defer { reader.close() }
        let read = try #require(try reader.next())
        #expect(read == entry)
    }
}

extension TarHeaderTests.UstarCase {
    static var sample: TarEntry { TarHeaderTests.ustarCases[0].entry }
}
