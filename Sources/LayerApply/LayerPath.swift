import NodeSys
import OverlayCapture

/// Validation of member names in a layer being applied.
///
/// Policy: a name is a relative path inside the image. A leading `./` and empty or `.` components are
/// normalised away (tar -C dir . writes `./etc/x`); an absolute name (`/etc/x`) and any `..` component are
/// refused outright rather than rewritten, because a layer carrying them was not made for this image and
/// silently re-rooting it could put files where nobody expects them. Names are bytes: every byte but NUL and
/// `/` is kept exactly (a layer name cannot hold NUL; the tar reader stops a name at one).
public enum LayerPath {
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case absolute(PathBytes)
        case parentComponent(PathBytes)
        case badWhiteout(PathBytes)

        public var description: String {
            switch self {
            case .absolute(let name):
                return "entry '\(DisplayText.safe(name))' has an absolute name; layer names must be relative"
            case .parentComponent(let name):
                return "entry '\(DisplayText.safe(name))' contains a '..' component (would leave the image)"
            case .badWhiteout(let name): return "whiteout '\(DisplayText.safe(name))' does not name a single entry"
            }
        }
    }

    /// The components of `name`, or an error when it could leave the target. `[]` is the image root itself.
    public static func components(_ name: PathBytes) throws(Error) -> [PathBytes] {
        if name.hasPrefix("/") { throw .absolute(name) }
        var parts: [PathBytes] = []
        for part in name.components {
            if part == "." { continue }
            if part == ".." { throw .parentComponent(name) }
            parts.append(part)
        }
        return parts
    }

    /// What a final component means in an OCI layer.
    public enum Meaning: Equatable, Sendable {
        case entry(PathBytes)
        /// `.wh.<name>`: delete `<name>` from lower layers.
        case whiteout(PathBytes)
        /// `.wh..wh..opq`: hide every lower child of the directory.
        case opaque
    }

    public static func meaning(of component: PathBytes, in name: PathBytes) throws(Error) -> Meaning {
        let opaqueMarker = OCIWhiteout.opaqueMarker, whiteoutPrefix = OCIWhiteout.prefix
        if component == opaqueMarker { return .opaque }
        guard component.hasPrefix(whiteoutPrefix) else { return .entry(component) }
        let target = component.dropFirst(whiteoutPrefix.count)
        if target.isEmpty || target == "." || target == ".." || target.hasPrefix(whiteoutPrefix) {
            throw .badWhiteout(name)
        }
        return .whiteout(target)
    }
}
