import NodeSys

/// resolv.conf(5) text for the booted system; the init writes it into /run.
public enum ResolvConf {
    /// `nameserver` lines (glibc reads at most three; extra ones are kept as comments so nothing is silently lost),
    /// then one `search` line.
    public static func render(servers: [IPAddress], searchDomains: [String] = []) -> String {
        var lines = ["# written by nodeinit"]
        var seen = Set<IPAddress>()
        var count = 0
        for server in servers where seen.insert(server).inserted {
            count += 1
            lines.append((count > 3 ? "# (glibc uses only three) " : "") + "nameserver \(server)")
        }
        let domains = searchDomains.filter {
            !$0.isEmpty && !$0.contains(where: { $0 == " " || $0 == "\n" || $0 == "\t" })
        }
        if !domains.isEmpty { lines.append("search " + domains.joined(separator: " ")) }
        return lines.joined(separator: "\n") + "\n"
    }
}
