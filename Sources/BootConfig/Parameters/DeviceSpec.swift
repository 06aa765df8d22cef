/// A block device named the way dracut's `label_uuid_to_dev` accepts it. Resolution (udev links or a libblkid scan)
/// is the runtime's job; this is only the validated name.
public enum DeviceSpec: Hashable, Codable, Sendable, CustomStringConvertible {
    /// `LABEL=<label>`: file-system label.
    case label(String)
    /// `UUID=<uuid>`: file-system UUID.
    case uuid(String)
    /// `PARTUUID=<uuid>`: GPT/MBR partition UUID.
    case partUUID(String)
    /// `PARTLABEL=<label>`: GPT partition name.
    case partLabel(String)
    /// `/dev/...`: a device node path.
    case path(String)

    /// Parses a devspec; `parameter` names the command-line parameter for the error message.
    public init(parsing text: String, parameter: String) throws(ParameterError) {
        func value(after prefix: String) -> String? {
            guard text.hasPrefix(prefix) else { return nil }
            return text.droppingScalars(prefix.unicodeScalars.count)
        }
        let kinds: [(String, (String) -> DeviceSpec)] = [
            ("LABEL=", DeviceSpec.label), ("UUID=", DeviceSpec.uuid),
            ("PARTUUID=", DeviceSpec.partUUID), ("PARTLABEL=", DeviceSpec.partLabel),
        ]
        for (prefix, make) in kinds {
            if let rest = value(after: prefix) {
                guard !rest.isEmpty else {
                    throw ParameterError(parameter: parameter, value: text, problem: "empty \(prefix) device name")
                }
                guard !rest.unicodeScalars.contains(where: { $0.value < 0x20 || $0 == "/" && prefix.hasPrefix("UUID") })
                else {
                    throw ParameterError(
                        parameter: parameter, value: text, problem: "\(prefix) value has invalid characters")
                }
                self = make(rest)
                return
            }
        }
        if text.hasPrefix("/dev/") && text.unicodeScalars.count > 5 && !text.containsWhitespaceOrControl {
            self = .path(text)
            return
        }
        throw ParameterError(
            parameter: parameter, value: text,
            problem: "not a device: expected LABEL=, UUID=, PARTUUID=, PARTLABEL= or /dev/...")
    }

    public var description: String {
        switch self {
        case .label(let v): return "LABEL=\(v)"
        case .uuid(let v): return "UUID=\(v)"
        case .partUUID(let v): return "PARTUUID=\(v)"
        case .partLabel(let v): return "PARTLABEL=\(v)"
        case .path(let v): return v
        }
    }

    /// The udev symlink dracut would wait for (`/dev/disk/by-label/...` etc., with `/` and space escaped as
    /// udev does), or the path itself.
    public var udevPath: String {
        func escaped(_ s: String) -> String {
            var out = ""
            for scalar in s.unicodeScalars {
                switch scalar {
                case "/": out += "\\x2f"
                case " ": out += "\\x20"
                default: out.unicodeScalars.append(scalar)
                }
            }
            return out
        }
        switch self {
        case .label(let v): return "/dev/disk/by-label/" + escaped(v)
        case .uuid(let v): return "/dev/disk/by-uuid/" + escaped(v)
        case .partUUID(let v): return "/dev/disk/by-partuuid/" + escaped(v)
        case .partLabel(let v): return "/dev/disk/by-partlabel/" + escaped(v)
        case .path(let v): return v
        }
    }
}
