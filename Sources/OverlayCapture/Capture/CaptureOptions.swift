import SystemPackage

/// Inputs of one capture.
public struct CaptureOptions: Sendable {
    /// The overlay upper directory (on a node: /run/nodeinit/overlay/upper).
    public var upperDirectory: FilePath
    /// The merged overlay view (on a node: /). Used for metacopy data, `/etc/nodeinit/save-exclude` and the
    /// uid/gid names in /etc/passwd and /etc/group. Without it, metacopy entries are refused and names left empty.
    public var mergedDirectory: FilePath?
    /// Extra exclusion patterns (see `ExclusionList`).
    public var exclusions: [String]
    public var useDefaultExclusions: Bool
    /// Read `/etc/nodeinit/save-exclude` from the merged view.
    public var readImageExclusions: Bool
    public var bootPlaced: [BootPlacedRecord]
    /// Fill `CaptureSummary.paths`.
    public var recordPaths: Bool

    public init(
        upperDirectory: FilePath, mergedDirectory: FilePath? = nil, exclusions: [String] = [],
        useDefaultExclusions: Bool = true, readImageExclusions: Bool = true, bootPlaced: [BootPlacedRecord] = [],
        recordPaths: Bool = false
    ) {
        self.upperDirectory = upperDirectory
        self.mergedDirectory = mergedDirectory
        self.exclusions = exclusions
        self.useDefaultExclusions = useDefaultExclusions
        self.readImageExclusions = readImageExclusions
        self.bootPlaced = bootPlaced
        self.recordPaths = recordPaths
    }

    /// Image path of the exclusion file read from the merged view.
    public static let imageExcludeFile = "/etc/nodeinit/save-exclude"
}
