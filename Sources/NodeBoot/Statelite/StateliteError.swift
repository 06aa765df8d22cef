import NodeSys

/// Why statelite could not set up the node; the boot sequence turns it into a boot failure.
public enum StateliteError: Swift.Error, CustomStringConvertible, Equatable {
    /// A table could not be read (its location and the reason).
    case tableUnreadable(table: String, location: String, reason: String)
    /// The tables read but the plan rejected them (BootConfig's message names the line).
    case invalidTables(reason: String)
    /// The persistent store did not mount while `persistent` entries need it.
    case persistentStoreUnavailable(statemnt: String, attempts: [String])
    /// A mount or path the whole setup depends on (`/.statelite`) failed.
    case setup(action: String, reason: String)
    /// xcatd gave no litefile/litetree: what went wrong and the attempts made before.
    case xcatd(endpoint: String, problem: String, attempts: [String])

    public var description: String {
        switch self {
        case .tableUnreadable(let table, let location, let reason):
            return "cannot read the \(table) table from \(location): \(reason)"
        case .invalidTables(let reason):
            return "statelite tables rejected: \(reason)"
        case .persistentStoreUnavailable(let statemnt, let attempts):
            return
                "persistent store \(statemnt) did not mount; persistent litefile entries would silently lose their data, so the boot stops (tries: \(attempts.joined(separator: "; ")))"
        case .setup(let action, let reason):
            return "statelite \(action): \(reason)"
        case .xcatd(let endpoint, let problem, let attempts):
            return "no statelite tables from xcatd at \(endpoint): \(problem)"
                + (attempts.isEmpty ? "" : " (\(attempts.joined(separator: "; ")))")
        }
    }
}

extension ConfinedTree {
    /// Opens `path` as a confined tree for statelite, naming what it is (`the image`, `the new root`) on failure.
    static func opening(_ path: String, as role: String) throws(StateliteError) -> ConfinedTree {
        do { return try ConfinedTree(path) } catch {
            throw .setup(action: "opening \(role) at \(path)", reason: error.description)
        }
    }
}
