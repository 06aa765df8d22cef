import NodeSys

/// The OCI layer names that delete lower content: what the capture writes for a deleted entry or an opaque
/// directory, and what LayerApply's `LayerPath` recognises when applying.
public enum OCIWhiteout {
    /// `.wh..wh..opq`: hide every lower child of the directory.
    public static let opaqueMarker: PathBytes = ".wh..wh..opq"
    /// `.wh.<name>`: delete `<name>` from lower layers.
    public static let prefix: PathBytes = ".wh."
}
