import Logging
import SystemPackage
import Testing

@testable import NodeSys

@Suite struct KernelLogTests {
    /// Without /dev/kmsg attached every line goes to the console, printk-style, and is kept for boot.log.
    @Test func linesGoToTheConsoleWithTimestampAndAreKept() throws {
        let (readEnd, writeEnd) = try FileDescriptor.pipe()
        defer {
            try? readEnd.close()
            try? writeEnd.close()
        }
        let sink = KernelLog(label: "nodeinit", console: writeEnd)
        var logger = Logger(label: "test", factory: { _ in KernelLogHandler(sink: sink) })
        logger.logLevel = .info
        logger.info("mounted /sys", metadata: ["b": "2", "a": "1"])
        logger.debug("not shown at info")
        logger.critical("two\nlines")

        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = try buffer.withUnsafeMutableBytes { try readEnd.read(into: $0) }
        let text = String(decoding: buffer[0..<count], as: UTF8.self)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(sink.lines == lines)
        let pattern = #/^\[ *\d+\.\d{6}\] nodeinit: (.*)$/#
        #expect(
            lines.compactMap { try? pattern.wholeMatch(in: $0)?.output.1 }.map(String.init) == [
                "mounted /sys a=1 b=2", "two", "lines",
            ])
    }

    @Test(arguments: [(Logger.Level.debug, 7), (.info, 6), (.notice, 5), (.warning, 4), (.error, 3), (.critical, 2)])
    func levelsMapToSyslogPriorities(level: Logger.Level, priority: Int) {
        #expect(KernelLog.syslogPriority(level) == priority)
    }
}
