import BootConfig
import NodeSys

/// The statelite steps' work on the new root (`StateliteSetup` on real mounts; a recorder in the unit tests).
public protocol StateliteOperations: AnyObject {
    var summary: StateliteSummary { get }
    func mountStateliteTmpfs() throws(StateliteError)
    func warnNoPersistentStore(entries: [LitefileEntry]) throws(StateliteError)
    func mountStatemnt(_ statemnt: StatemntPlan, nodeName: String?, entries: [LitefileEntry]) throws(StateliteError)
    func mountLocalDisk(_ disk: LocalDiskPlan) throws(StateliteError)
    func mountLitetree(_ tree: LitetreeMount) throws(StateliteError)
    func applyLitefile(_ entry: LitefileEntry, in entries: [LitefileEntry]) throws(StateliteError)
    func linkMtab() throws(StateliteError)
}

/// The steps that work inside directory trees through confined (openat2) paths: reading the xCAT tables from the
/// image or over NFS, statelite on the new root, preparing a persistent overlay's device. `LiveStorage` does them
/// on real mounts; the unit tests pass a fake.
public protocol BootStorage: AnyObject {
    func loadTables(
        _ locations: TableLocations, imageRoot: String, resolveHost: @escaping (String) -> String?, log: StateliteLog
    ) throws(StateliteError) -> StateliteTables.Loaded
    func openStatelite(_ environment: StateliteSetup.Environment, log: StateliteLog) -> any StateliteOperations
    /// Asks xcatd (at `address`) for the tables asked for; CA files are looked up in `imageRoot`.
    func fetchXcatdTables(
        _ plan: XcatdPlan, address: IPAddress, imageRoot: String, litefile: Bool, litetree: Bool, seed: UInt64,
        log: StateliteLog
    ) throws(StateliteError) -> XcatdTables.Fetched
    func prepareOverlayDevice(_ overlay: PersistentOverlay) throws(PersistentOverlayError) -> PersistentOverlay.Prepared
}

public final class LiveStorage: BootStorage {
    public init() {}

    public func loadTables(
        _ locations: TableLocations, imageRoot: String, resolveHost: @escaping (String) -> String?, log: StateliteLog
    ) throws(StateliteError) -> StateliteTables.Loaded {
        let image = try ConfinedTree.opening(imageRoot, as: "the image")
        return try StateliteTables(imageRoot: image, resolveHost: resolveHost).load(locations, log: log)
    }

    public func openStatelite(_ environment: StateliteSetup.Environment, log: StateliteLog) -> any StateliteOperations {
        StateliteSetup(environment: environment, log: log)
    }

    public func fetchXcatdTables(
        _ plan: XcatdPlan, address: IPAddress, imageRoot: String, litefile: Bool, litetree: Bool, seed: UInt64,
        log: StateliteLog
    ) throws(StateliteError) -> XcatdTables.Fetched {
        let image = try ConfinedTree.opening(imageRoot, as: "the image")
        return try XcatdTables(plan: plan, address: address, imageRoot: image, seed: seed)
            .fetch(litefile: litefile, litetree: litetree, log: log)
    }

    public func prepareOverlayDevice(_ overlay: PersistentOverlay) throws(PersistentOverlayError)
        -> PersistentOverlay.Prepared
    {
        try overlay.prepare()
    }
}
