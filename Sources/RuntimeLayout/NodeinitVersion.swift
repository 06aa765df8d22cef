import CBuildVersion

/// The version every part of nodeinit reports (`nodeinit version`, the boot log, the agent's `/v1/info`): the git
/// description at build time when built by `make static` from a checkout, else the release number in
/// `CBuildVersion.h`, the one place it is written.
public enum NodeinitVersion {
    public static let text: String = String(cString: nodeinit_version_string)
}
