import CNodeShim
import Glibc
import Logging
import SystemPackage

/// Loads kernel modules from /lib/modules/<release> with finit_module(2), dependencies first,
/// skipping built-in and already-loaded modules, passing `mod.param=` parameters.
public struct ModuleLoader: Sendable {
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case indexUnreadable(FileContents.Error)
        case resolve(ModuleDependencies.Error)
        case open(module: ModuleName, path: String, Errno)
        case finit(module: ModuleName, path: String, parameters: String, Errno)

        public var description: String {
            switch self {
            case .indexUnreadable(let error): "module index unreadable: \(error)"
            case .resolve(let error): "\(error)"
            case .open(let module, let path, let errno): "cannot open module \(module) at \(path): \(errno.report)"
            case .finit(let module, let path, let parameters, let errno):
                "finit_module \(module) (\(path)\(parameters.isEmpty ? "" : " \(parameters)")) failed: \(errno.report)"
            }
        }
    }

    /// What one call loaded, skipped and failed.
    public struct Outcome: Sendable {
        public var loaded: [ModuleName] = []
        public var failures: [Error] = []

        public init() {}

        public mutating func absorb(_ other: Outcome) {
            loaded += other.loaded
            failures += other.failures
        }
    }

    public let directory: String
    public let dependencies: ModuleDependencies
    public let aliases: ModuleAliases
    public let builtin: Set<ModuleName>
    public var parameters: [ModuleName: [String]]
    /// Never loaded, neither by name nor by modalias (rd.driver.blacklist=, modprobe.blacklist=).
    public var blacklist: Set<ModuleName>
    /// Modules known to be in the kernel: loaded by us, or listed in /proc/modules at start.
    public private(set) var present: Set<ModuleName>

    /// The running kernel's release, from uname(2).
    public static func kernelRelease() -> String {
        var names = utsname()
        _ = uname(&names)
        return withUnsafeBytes(of: names.release) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }

    /// Reads modules.dep (required), modules.alias and modules.builtin (optional: an initramfs
    /// without them just loads nothing by alias and treats nothing as built in) and /proc/modules.
    public init(
        directory: String = "/lib/modules/" + ModuleLoader.kernelRelease(),
        parameters: [ModuleName: [String]] = [:], blacklist: Set<ModuleName> = []
    ) throws(Error) {
        self.directory = directory
        self.parameters = parameters
        self.blacklist = blacklist
        do {
            dependencies = ModuleDependencies(parsing: try FileContents.string(at: directory + "/modules.dep"))
        } catch {
            throw .indexUnreadable(error)
        }
        aliases = ModuleAliases(parsing: (try? FileContents.string(at: directory + "/modules.alias")) ?? "")
        builtin = KernelModuleLists.builtin(
            parsing: (try? FileContents.string(at: directory + "/modules.builtin")) ?? "")
        present = KernelModuleLists.loaded(parsing: (try? FileContents.string(at: "/proc/modules")) ?? "")
    }

    /// Loads `names` and their dependencies. A module that is neither in modules.dep nor built in
    /// is a failure; a failed dependency is reported and its users are still attempted (the kernel
    /// then names the missing symbol in its log).
    public mutating func load(_ names: [ModuleName], logger: Logger) -> Outcome {
        var outcome = Outcome()
        var wanted: [ModuleName] = []
        for name in names where !builtin.contains(name) && !present.contains(name) {
            if blacklist.contains(name) {
                logger.info("module \(name) is blacklisted; not loading it")
            } else if dependencies.entry(name) == nil {
                outcome.failures.append(.resolve(.unknownModule(name)))
            } else {
                wanted.append(name)
            }
        }
        let order: [ModuleName]
        do {
            order = try dependencies.loadOrder(for: wanted, skipping: builtin.union(present))
        } catch {
            outcome.failures.append(.resolve(error))
            return outcome
        }
        for name in order {
            guard let entry = dependencies.entry(name) else { continue }
            do {
                try insert(name, path: directory + "/" + entry.path)
                present.insert(name)
                outcome.loaded.append(name)
                logger.debug("loaded module \(name)")
            } catch {
                logger.warning("\(error)")
                outcome.failures.append(error)
            }
        }
        return outcome
    }

    /// Loads the drivers for devices that have none yet, by matching each
    /// /sys/bus/*/devices/*/modalias against modules.alias. Repeats while new modules were loaded,
    /// since a bus driver (virtio_pci) makes new devices (virtio0) appear. Modules listed in
    /// modules.alias but absent from modules.dep (not shipped) are skipped.
    public mutating func loadForPresentDevices(logger: Logger, maxRounds: Int = 4) -> Outcome {
        var outcome = Outcome()
        var tried: Set<ModuleName> = []
        for _ in 0..<maxRounds {
            var candidates: [ModuleName] = []
            for modalias in Self.unboundModaliases() {
                for module in aliases.modules(matching: modalias)
                where !tried.contains(module) && !blacklist.contains(module) && dependencies.entry(module) != nil {
                    tried.insert(module)
                    candidates.append(module)
                    logger.debug("device \(modalias) wants module \(module)")
                }
            }
            if candidates.isEmpty { break }
            let round = load(candidates, logger: logger)
            outcome.absorb(round)
            if round.loaded.isEmpty { break }
        }
        return outcome
    }

    /// The modalias of every device on every bus that has no driver bound.
    public static func unboundModaliases(sysfs: String = "/sys") -> [String] {
        var result: [String] = []
        let buses = (try? FileSystem.entries(of: sysfs + "/bus")) ?? []
        for bus in buses.sorted() {
            let devicesPath = "\(sysfs)/bus/\(bus)/devices"
            for device in ((try? FileSystem.entries(of: devicesPath)) ?? []).sorted() {
                let devicePath = "\(devicesPath)/\(device)"
                if FileSystem.exists(devicePath + "/driver") { continue }
                guard let text = try? FileContents.string(at: devicePath + "/modalias", limit: 4096) else { continue }
                let modalias = Substring(text).trimmingSpaces().filter { $0 != "\n" }
                if !modalias.isEmpty && !result.contains(modalias) { result.append(modalias) }
            }
        }
        return result
    }

    private func insert(_ name: ModuleName, path: String) throws(Error) {
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec])
        } catch {
            throw .open(module: name, path: path, Errno(thrown: error))
        }
        defer { try? fd.close() }
        let parameterText = (parameters[name] ?? []).joined(separator: " ")
        let flags: Int32 = Self.isCompressed(path) ? Self.compressedFileFlag : 0
        let result = valueOrErrno { nodeinit_finit_module(fd.rawValue, parameterText, flags) }
        switch result {
        case .success: return
        case .failure(let errno) where errno == .fileExists: return  // loaded meanwhile (by the kernel's request_module)
        case .failure(let errno): throw .finit(module: name, path: path, parameters: parameterText, errno)
        }
    }

    /// MODULE_INIT_COMPRESSED_FILE: the kernel (6.2+) decompresses .ko.xz/.ko.zst/.ko.gz itself.
    static let compressedFileFlag: Int32 = 4

    static func isCompressed(_ path: String) -> Bool {
        path.hasSuffix(".xz") || path.hasSuffix(".zst") || path.hasSuffix(".gz")
    }
}
