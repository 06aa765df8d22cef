import BootConfig
import NodeSys

/// One NFS mount the statelite setup makes (persistent store, litetree source), from the plan's attempts: each
/// attempt is one mount(2) with `addr=` appended (the kernel does no DNS). Rounds of attempts are bounded.
struct StateliteNFSMount {
    var server: String
    var address: String
    var path: String
    var attempts: [NFSMountAttempt]
    var rounds: Int
    var pauseMilliseconds: Int

    var source: String {
        (address.contains(":") ? "[\(address)]" : address) + ":" + path
    }

    /// The option string for the kernel: the plan's options without `ro`/`rw` (the read-only flag is passed as
    /// MS_RDONLY), `nolock` added for v3 unless `lock` was asked for (statd does not exist here), then `addr=`.
    static func kernelOptions(_ attempt: NFSMountAttempt, address: String) -> String {
        var options = attempt.options.split(separator: ",").map(String.init).filter {
            $0 != "ro" && $0 != "rw" && !$0.isEmpty
        }
        if attempt.version == "3" && !options.contains("lock") && !options.contains("nolock") {
            options.append("nolock")
        }
        options.append("addr=\(address)")
        return options.joined(separator: ",")
    }

    /// Tries every attempt per round; returns the attempt that mounted, or the failures (one line each).
    func mount(on root: ConfinedTree, at target: String) -> Result<NFSMountAttempt, MountFailures> {
        var failures: [String] = []
        for round in 1...max(1, rounds) {
            for attempt in attempts {
                do {
                    try root.mount(
                        source: source, fileSystemType: attempt.fsType, readOnly: attempt.readOnly,
                        data: Self.kernelOptions(attempt, address: address), at: target)
                    return .success(attempt)
                } catch {
                    failures.append(
                        "round \(round) vers=\(attempt.version) \(server):\(path): \(error.errno.map { "\($0)" } ?? error.description)"
                    )
                }
            }
            if round < rounds { Pause.sleep(milliseconds: pauseMilliseconds) }
        }
        return .failure(MountFailures(lines: failures))
    }
}

struct MountFailures: Swift.Error {
    var lines: [String]
}
