import BootConfig
import NFSFiles
import NodeSys

/// Finds the xCAT tables at boot: `nodeinit.litefile=` / `nodeinit.litetree=` / `nodeinit.statelite=` when given
/// (a file in the image, or `nfs://` read with libnfs, no kernel mount), else the image's own
/// `/etc/nodeinit/{litefile,litetree,statelite}.csv`. A table that is simply absent from the image is not an error
/// (statelite is then off, or has no trees); one named on the command line must be readable.
public struct StateliteTables {
    public static let imageLitefile = "/etc/nodeinit/litefile.csv"
    public static let imageLitetree = "/etc/nodeinit/litetree.csv"
    public static let imageStatelite = "/etc/nodeinit/statelite.csv"

    /// The image as mounted (the overlay's lower dir, or the new root without an overlay).
    public var imageRoot: ConfinedTree
    /// Host name → address, for an `nfs://` location whose server is a name.
    public var resolveHost: (String) -> String?
    public var reader: NFSFileReader

    public init(
        imageRoot: ConfinedTree, resolveHost: @escaping (String) -> String?, reader: NFSFileReader = NFSFileReader()
    ) {
        self.imageRoot = imageRoot
        self.resolveHost = resolveHost
        self.reader = reader
    }

    /// The tables found; nil for one neither named nor in the image.
    public struct Loaded {
        public var litefile: BootInputs.Table?
        public var litetree: BootInputs.Table?
        public var statelite: BootInputs.Table?

        public init(
            litefile: BootInputs.Table? = nil, litetree: BootInputs.Table? = nil, statelite: BootInputs.Table? = nil
        ) {
            self.litefile = litefile
            self.litetree = litetree
            self.statelite = statelite
        }

        public var isEmpty: Bool { litefile == nil && litetree == nil && statelite == nil }
    }

    /// Reads every table the locations name (or the image holds).
    public func load(_ locations: TableLocations, log: StateliteLog) throws(StateliteError) -> Loaded {
        Loaded(
            litefile: try load("litefile", locations.litefile, default: Self.imageLitefile, log: log),
            litetree: try load("litetree", locations.litetree, default: Self.imageLitetree, log: log),
            statelite: try load("statelite", locations.statelite, default: Self.imageStatelite, log: log))
    }

    func load(_ table: String, _ location: TableLocation?, default imagePath: String, log: StateliteLog)
        throws(StateliteError) -> BootInputs.Table?
    {
        switch location {
        case .none:
            guard (try? imageRoot.status(imagePath)) ?? nil != nil else { return nil }
            return try readImage(table, imagePath, log: log)
        case .image(let path):
            return try readImage(table, path, log: log)
        case .nfs(let server, let path):
            let display = TableLocation.nfs(server: server, path: path).description
            guard let address = resolveHost(server) else {
                throw .tableUnreadable(table: table, location: display, reason: "cannot resolve \(server)")
            }
            do {
                let bytes = try reader.read(NFSURL(server: address, path: path))
                log.info("read the \(table) table from \(display) (\(bytes.count) bytes, libnfs)")
                return BootInputs.Table(name: display, text: String(decoding: bytes, as: UTF8.self))
            } catch {
                throw .tableUnreadable(table: table, location: display, reason: error.description)
            }
        }
    }

    func readImage(_ table: String, _ path: String, log: StateliteLog) throws(StateliteError) -> BootInputs.Table {
        do {
            let bytes = try imageRoot.readFile(path, limit: 4 << 20)
            log.info("read the \(table) table from the image's \(path) (\(bytes.count) bytes)")
            return BootInputs.Table(name: path, text: String(decoding: bytes, as: UTF8.self))
        } catch {
            throw .tableUnreadable(table: table, location: "the image's \(path)", reason: error.description)
        }
    }
}
