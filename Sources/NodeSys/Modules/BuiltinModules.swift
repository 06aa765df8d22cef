/// Module names the running kernel already has: modules.builtin (compiled in) and /proc/modules
/// (loaded). Both parsers are pure; ModuleLoader reads the files.
public enum KernelModuleLists {
    /// modules.builtin: one "kernel/.../name.ko" path per line.
    public static func builtin(parsing text: String) -> Set<ModuleName> {
        var names: Set<ModuleName> = []
        for line in text.split(whereSeparator: \.isNewline) {
            let path = Substring(line).trimmingSpaces()
            if !path.isEmpty { names.insert(ModuleName(modulePath: path)) }
        }
        return names
    }

    /// /proc/modules: "name size refcount deps state address" per line; the first field is the name.
    public static func loaded(parsing text: String) -> Set<ModuleName> {
        var names: Set<ModuleName> = []
        for line in text.split(whereSeparator: \.isNewline) {
            if let name = line.split(separator: " ", maxSplits: 1).first { names.insert(ModuleName(name)) }
        }
        return names
    }
}
