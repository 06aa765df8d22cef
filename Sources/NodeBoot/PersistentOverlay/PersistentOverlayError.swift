/// A persistent overlay that must not be replaced by a tmpfs (`nodeinit.overlay.required`, or the mismatch policy
/// `fail`), or that broke halfway.
public enum PersistentOverlayError: Swift.Error, CustomStringConvertible, Equatable {
    case deviceUnavailable(spec: String, reason: String)
    case imageMismatch(recorded: String, current: String)
    case mountFailed(what: String, reason: String)

    public var description: String {
        switch self {
        case .deviceUnavailable(let spec, let reason):
            return "persistent overlay device \(spec) unavailable (nodeinit.overlay.required): \(reason)"
        case .imageMismatch(let recorded, let current):
            return
                "persistent overlay was written over another image (recorded \(recorded), now \(current)); nodeinit.overlay.mismatch=fail"
        case .mountFailed(let what, let reason):
            return "persistent overlay: \(what): \(reason)"
        }
    }
}
