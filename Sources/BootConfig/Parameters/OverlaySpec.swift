import TextSearch

/// The overlay parameters: `rd.overlay` (boolean or value), `rd.overlay.reset`, `rd.overlay.readonly`, and the
/// deprecated `rd.live.overlay`, `rd.live.overlay.overlayfs`, `rd.live.overlay.reset`, `rd.live.overlay.readonly`
/// (accepted with a warning, as dracut-ng 110 does), plus nodeinit's `nodeinit.overlay.mismatch=` and
/// `nodeinit.overlay.required`.
public struct OverlaySpec: Equatable, Sendable {
    public enum Upper: Equatable, Sendable {
        /// `rd.overlay=0|no|off|none`: no overlay.
        case disabled
        /// tmpfs (the default, `rd.overlay`, `rd.overlay=1`, `rd.overlay=tmpfs[:opts]`). `size=` and `nr_blocks=`
        /// are one limit (bytes, or pages): at most one of them is set, the later one given, as the kernel takes it.
        case tmpfs(size: String?, nrInodes: String?, nrBlocks: String? = nil)
        /// `rd.overlay=<devspec>[:<path>]` or `rd.live.overlay=<devspec>[:<path>]`.
        case device(DeviceSpec, path: String?)
    }

    public var upper: Upper
    /// True when the user asked for the overlay explicitly (any of the parameters), false for nodeinit's default.
    public var explicit: Bool
    public var reset: Bool
    public var readOnly: Bool
    public var mismatchPolicy: OverlayMismatchPolicy
    public var required: Bool
    public var warnings: [String]

    public static func parse(_ commandLine: KernelCommandLine) throws(ParameterError) -> OverlaySpec {
        var warnings: [String] = []
        var upper: Upper = .tmpfs(size: nil, nrInodes: nil)
        var explicit = false

        // Deprecated spellings first, so rd.overlay (the current name) wins when both are given.
        if let on = try commandLine.flag("rd.live.overlay.overlayfs") {
            warnings.append("rd.live.overlay.overlayfs is deprecated: use rd.overlay")
            explicit = true
            upper = on ? .tmpfs(size: nil, nrInodes: nil) : .disabled
        }
        if let parameter = commandLine.lastParameter("rd.live.overlay") {
            warnings.append("rd.live.overlay is deprecated: use rd.overlay")
            explicit = true
            upper = try parseValue(
                parameter.value, parameter: "rd.live.overlay", warnings: &warnings, allowFlags: false)
        }
        if let parameter = commandLine.lastParameter("rd.overlay") {
            explicit = true
            let parsed = try parseValue(parameter.value, parameter: "rd.overlay", warnings: &warnings, allowFlags: true)
            // dracut: rd.overlay=0/1/"" carries no device and falls back to rd.live.overlay's device.
            if case .device = upper, parsed == .tmpfs(size: nil, nrInodes: nil), parameter.value.map(isFlagWord) ?? true
            {
                // keep the deprecated parameter's device
            } else {
                upper = parsed
            }
        }

        var reset = false
        var readOnly = false
        for (old, new) in [
            ("rd.live.overlay.reset", "rd.overlay.reset"), ("rd.live.overlay.readonly", "rd.overlay.readonly"),
        ] {
            if let value = try commandLine.flag(old) {
                warnings.append("\(old) is deprecated: use \(new)")
                if new == "rd.overlay.reset" { reset = value } else { readOnly = value }
            }
        }
        if let value = try commandLine.flag("rd.overlay.reset") { reset = value }
        if let value = try commandLine.flag("rd.overlay.readonly") { readOnly = value }

        var policy = OverlayMismatchPolicy.tmpfs
        if let parameter = commandLine.lastParameter("nodeinit.overlay.mismatch") {
            let value = parameter.value ?? ""
            guard let parsed = OverlayMismatchPolicy(rawValue: value) else {
                throw ParameterError(
                    parameter: "nodeinit.overlay.mismatch", value: value, problem: "expected tmpfs, reset or fail")
            }
            policy = parsed
        }
        let required = try commandLine.flag("nodeinit.overlay.required") ?? false

        if case .device = upper {
        } else {
            if reset { warnings.append("rd.overlay.reset has no effect without an overlay device") }
            if readOnly { warnings.append("rd.overlay.readonly has no effect without an overlay device") }
            if required && upper != .disabled {
                warnings.append("nodeinit.overlay.required has no effect without an overlay device")
            }
        }
        return OverlaySpec(
            upper: upper, explicit: explicit, reset: reset, readOnly: readOnly, mismatchPolicy: policy,
            required: required, warnings: warnings)
    }

    static func isFlagWord(_ value: String) -> Bool {
        ["", "1", "yes", "on", "true", "0", "no", "off", "false"].contains(value.asciiLowercased())
    }

    static func parseValue(
        _ value: String?, parameter: String, warnings: inout [String], allowFlags: Bool
    ) throws(ParameterError) -> Upper {
        guard let value else { return .tmpfs(size: nil, nrInodes: nil) }
        switch value.asciiLowercased() {
        case "", "1", "yes", "on", "true": return .tmpfs(size: nil, nrInodes: nil)
        case "0", "no", "off", "false", "none": return .disabled
        default: break
        }
        if value == "tmpfs" { return .tmpfs(size: nil, nrInodes: nil) }
        if value.hasPrefix("tmpfs:") {
            return try parseTmpfsOptions(
                value.droppingScalars(6), parameter: parameter, whole: value, warnings: &warnings)
        }
        // <devspec>[:<path>|:auto]: split at the last ':' followed by '/' or "auto" (by-path names contain ':').
        // One backward scan looking only at the scalars after each ':' (building the tail as a string at every
        // ':' made a value of 100,000 colons take minutes: issue 10).
        let scalars = Array(value.unicodeScalars)
        let auto: [Unicode.Scalar] = ["a", "u", "t", "o"]
        var split: Int? = nil
        for index in stride(from: scalars.count - 1, through: 0, by: -1) where scalars[index] == ":" {
            let tail = scalars[(index + 1)...]
            if tail.first == "/" || tail.elementsEqual(auto) {
                split = index
                break
            }
        }
        var deviceText = value
        var path: String? = nil
        if let split {
            deviceText = String(String.UnicodeScalarView(scalars[0..<split]))
            let after = String(String.UnicodeScalarView(scalars[(split + 1)...]))
            path = after == "auto" ? nil : after
            if let path, path.containsWhitespaceOrControl || path.containsBytes("/../") || path.hasSuffix("/..") {
                throw ParameterError(
                    parameter: parameter, value: value, problem: "bad overlay path \(quotedForMessage(path))")
            }
        }
        let device = try DeviceSpec(parsing: deviceText, parameter: parameter)
        return .device(device, path: path)
    }

    /// `size=`, `nr_blocks=` and `nr_inodes=`, the keys dracut-ng's overlayfs module passes to the tmpfs mount;
    /// unknown keys are warned and ignored, as dracut does. `size=` and `nr_blocks=` both set the tmpfs's block
    /// limit (the kernel keeps the later one), so only the later one is kept, with a warning.
    static func parseTmpfsOptions(
        _ text: String, parameter: String, whole: String, warnings: inout [String]
    ) throws(ParameterError) -> Upper {
        var size: String? = nil
        var blocks: String? = nil
        var inodes: String? = nil
        func replaceLimit(with key: String) {
            if let earlier = size.map({ "size=\($0)" }) ?? blocks.map({ "nr_blocks=\($0)" }),
                !earlier.hasPrefix(key + "=")
            {
                warnings.append(
                    "\(parameter): tmpfs \(earlier) replaced by the later \(key)= (both set the same limit)")
            }
            size = nil
            blocks = nil
        }
        for option in text.commaList() {
            guard let (key, value) = option.splitOnce(on: "=") else {
                warnings.append("\(parameter): tmpfs option \(option) ignored")
                continue
            }
            switch key {
            case "size":
                guard isTmpfsSize(value, allowPercent: true) else {
                    throw ParameterError(
                        parameter: parameter, value: whole, problem: "bad tmpfs size \(quotedForMessage(value))")
                }
                replaceLimit(with: "size")
                size = value
            case "nr_blocks":
                guard isTmpfsSize(value, allowPercent: false) else {
                    throw ParameterError(
                        parameter: parameter, value: whole, problem: "bad nr_blocks \(quotedForMessage(value))")
                }
                replaceLimit(with: "nr_blocks")
                blocks = value
            case "nr_inodes":
                guard isTmpfsSize(value, allowPercent: false) else {
                    throw ParameterError(
                        parameter: parameter, value: whole, problem: "bad nr_inodes \(quotedForMessage(value))")
                }
                inodes = value
            default:
                warnings.append("\(parameter): tmpfs option \(key) ignored")
            }
        }
        return .tmpfs(size: size, nrInodes: inodes, nrBlocks: blocks)
    }

    /// A tmpfs size: digits with an optional k/m/g/t/p/e suffix (any case) or `%`.
    static func isTmpfsSize(_ value: String, allowPercent: Bool) -> Bool {
        var digits = value
        if let last = value.unicodeScalars.last {
            let suffixes: [Unicode.Scalar] = ["k", "K", "m", "M", "g", "G", "t", "T", "p", "P", "e", "E"]
            if suffixes.contains(last) || (allowPercent && last == "%") { digits = value.droppingLastScalars(1) }
        }
        guard let number = digits.parseDecimal() else { return false }
        if value.endsWith("%") { return number > 0 && number <= 100 }
        return number > 0
    }
}
