import CNodeShim
import Glibc
import Logging
import SystemPackage

/// Loads kernel modules from /lib/modules/<release> with finit_module(2), dependencies first,
/// skipping built-in and already-loaded modules, passing `mod.param=` parameters. Some loads may run on threads
/// of their own (`loadInBackground`, the deferred device drivers); the loader that started them is the only one
/// that waits for them and records what they loaded.
public struct ModuleLoader: Sendable {
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case indexUnreadable(FileContents.Error)
        case resolve(ModuleDependencies.Error)
        case open(module: ModuleName, path: String, Errno)
        case finit(module: ModuleName, path: String, parameters: String, Errno)

        /// The module the error is about (nil for an unreadable index or an unorderable request).
        public var module: ModuleName? {
            switch self {
            case .indexUnreadable, .resolve: nil
            case .open(let module, _, _), .finit(let module, _, _, _): module
            }
        }

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
    /// The index: the build-time table, or one built from the text files (`indexSource` says which).
    public private(set) var table: ModuleTable
    public private(set) var indexSource: IndexSource
    public var parameters: [ModuleName: [String]]
    /// Never loaded, neither by name nor by modalias (rd.driver.blacklist=, modprobe.blacklist=).
    public var blacklist: Set<ModuleName>
    /// Modules known to be in the kernel: loaded by us, or listed in /proc/modules at start.
    public private(set) var present: Set<ModuleName>
    /// Loads running on their own threads, not yet waited for.
    private var background: [BackgroundModuleLoad] = []
    /// What finished background loads did that no load has claimed yet (`load` hands out what its names need).
    private var unclaimed = Outcome()
    /// Failed on a background thread: not tried again (the claim reports the failure).
    private var failedInBackground: Set<ModuleName> = []
    /// Background loads waited for, for the timeline (`takeBackgroundReports`).
    private var reports: [BackgroundModuleLoad.Report] = []
    /// The devices whose drivers `loadForPresentDevices` left to the background (`settleForSwitchRoot` hands the
    /// ones still without a driver on).
    private var deferredDevices: (@Sendable (String) -> Bool)?
    /// When set, module files are opened below this directory (the initramfs's root, for the process that outlives
    /// switch_root: its "/" is the image's by then) rather than from "/".
    var filesRoot: FileDescriptor?

    public var builtin: Set<ModuleName> { table.builtin }

    /// Where the index came from.
    public enum IndexSource: Sendable, Equatable {
        /// `modules.nodeinit`, written by `nodeinit initramfs`.
        case table
        /// modules.dep, modules.alias and modules.builtin, parsed at boot; `reason` says why not the table.
        case text(reason: String)
    }

    /// The running kernel's release, from uname(2).
    public static func kernelRelease() -> String {
        var names = utsname()
        _ = uname(&names)
        return withUnsafeBytes(of: names.release) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }

    /// Reads the module table (`modules.nodeinit`) when it is there and describes the modules.dep, modules.alias
    /// and modules.builtin beside it; otherwise builds the same table from those files: modules.dep (required),
    /// modules.alias and modules.builtin (optional: an initramfs without them just loads nothing by alias and
    /// treats nothing as built in). Then reads /proc/modules.
    public init(
        directory: String = "/lib/modules/" + ModuleLoader.kernelRelease(),
        parameters: [ModuleName: [String]] = [:], blacklist: Set<ModuleName> = []
    ) throws(Error) {
        let dependencyBytes: [UInt8]
        do {
            dependencyBytes = try FileContents.bytes(at: directory + "/modules.dep")
        } catch {
            throw .indexUnreadable(error)
        }
        let aliasBytes = (try? FileContents.bytes(at: directory + "/modules.alias")) ?? []
        let builtinBytes = (try? FileContents.bytes(at: directory + "/modules.builtin")) ?? []
        let sources = ModuleTable.Sources(dependencies: dependencyBytes, aliases: aliasBytes, builtin: builtinBytes)
        let (table, source) = Self.readTable(directory: directory, sources: sources) {
            Self.textTable(
                directory: directory, dependencies: dependencyBytes, aliases: aliasBytes, builtin: builtinBytes)
        }
        self.init(
            table: table, indexSource: source, directory: directory,
            present: KernelModuleLists.loaded(parsing: (try? FileContents.string(at: "/proc/modules")) ?? ""),
            parameters: parameters, blacklist: blacklist)
    }

    /// A loader over a given table (tests; `present`: what /proc/modules would list).
    public init(
        table: ModuleTable, indexSource: IndexSource = .table, directory: String, present: Set<ModuleName> = [],
        parameters: [ModuleName: [String]] = [:], blacklist: Set<ModuleName> = []
    ) {
        self.table = table
        self.indexSource = indexSource
        self.directory = directory
        self.present = present
        self.parameters = parameters
        self.blacklist = blacklist
    }

    /// The table file when it matches `sources`, else `fallback()` with the reason.
    static func readTable(directory: String, sources: ModuleTable.Sources, fallback: () -> ModuleTable)
        -> (ModuleTable, IndexSource)
    {
        let path = directory + "/" + ModuleTable.fileName
        guard FileSystem.exists(path) else { return (fallback(), .text(reason: "no \(ModuleTable.fileName)")) }
        do {
            let table = try ModuleTable(parsing: try FileContents.bytes(at: path))
            guard table.sources == sources else {
                return (
                    fallback(),
                    .text(reason: "\(path) was computed from other modules.dep, modules.alias or modules.builtin")
                )
            }
            return (table, .table)
        } catch {
            return (fallback(), .text(reason: "\(path): \(error)"))
        }
    }

    /// The table built at boot from the bytes of modules.dep, modules.alias and modules.builtin.
    static func textTable(directory: String, dependencies: [UInt8], aliases: [UInt8], builtin: [UInt8]) -> ModuleTable {
        ModuleTable(
            dependencies: ModuleDependencies(parsing: String(decoding: dependencies, as: UTF8.self)),
            aliases: ModuleAliases(parsing: String(decoding: aliases, as: UTF8.self)),
            builtin: KernelModuleLists.builtin(parsing: String(decoding: builtin, as: UTF8.self)),
            kernelRelease: Self.lastComponent(directory),
            sources: ModuleTable.Sources(dependencies: dependencies, aliases: aliases, builtin: builtin))
    }

    /// True when the index knows `name`. A module the build-time table lacks sends the loader to the text files
    /// (a table that describes modules.dep lists every module in it, so this only happens with a table written by
    /// a writer that left some out): when modules.dep has it, the loader goes on with the table built from them.
    mutating func knows(_ name: ModuleName, logger: Logger) -> Bool {
        if table.index(of: name) != nil { return true }
        guard indexSource == .table else { return false }
        guard let dependencies = try? FileContents.bytes(at: directory + "/modules.dep") else { return false }
        let text = Self.textTable(
            directory: directory, dependencies: dependencies,
            aliases: (try? FileContents.bytes(at: directory + "/modules.alias")) ?? [],
            builtin: (try? FileContents.bytes(at: directory + "/modules.builtin")) ?? [])
        guard text.index(of: name) != nil else { return false }
        logger.warning(
            "\(directory)/\(ModuleTable.fileName) lacks module \(name), which modules.dep lists; using the text indexes"
        )
        table = text
        indexSource = .text(reason: "\(ModuleTable.fileName) lacks module \(name)")
        return true
    }

    private static func lastComponent(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    /// Loads `names` and their dependencies. A module that is neither in modules.dep nor built in
    /// is a failure; a failed dependency is reported and its users are still attempted (the kernel
    /// then names the missing symbol in its log). A background load that loads any of them is waited for first,
    /// and what it did for them is part of this outcome.
    public mutating func load(_ names: [ModuleName], logger: Logger) -> Outcome {
        load(names, logger: logger, until: { false })
    }

    /// `load`, returning before the next module once `stopRequested()` is true (a background load asked to stop).
    mutating func load(_ names: [ModuleName], logger: Logger, until stopRequested: () -> Bool) -> Outcome {
        var outcome = Outcome()
        let needed = Set((try? table.loadOrder(for: names.filter { table.index(of: $0) != nil })) ?? [])
        for job in background where job.modules.map({ !$0.isDisjoint(with: needed) }) ?? false {
            settle(job, logger: logger)
        }
        outcome.absorb(claim(needed))
        guard let order = loadOrder(for: names, skipping: failedInBackground, &outcome, logger: logger) else {
            return outcome
        }
        for name in order {
            if stopRequested() { break }
            guard let module = table.module(name) else { continue }
            do {
                try insert(name, path: directory + "/" + module.path)
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

    /// `names` not built in or loaded yet, with the dependencies they need, in load order, leaving out `skipping`
    /// (a module that failed in the background, or one loading there now). Blacklisted names are logged and left
    /// out, unknown ones and an unresolvable order are added to `outcome` (nil for the latter).
    private mutating func loadOrder(
        for names: [ModuleName], skipping: Set<ModuleName>, _ outcome: inout Outcome, logger: Logger
    ) -> [ModuleName]? {
        var wanted: [ModuleName] = []
        for name in names where !builtin.contains(name) && !present.contains(name) && !skipping.contains(name) {
            if blacklist.contains(name) {
                logger.info("module \(name) is blacklisted; not loading it")
            } else if !knows(name, logger: logger) {
                outcome.failures.append(.resolve(.unknownModule(name)))
            } else {
                wanted.append(name)
            }
        }
        do {
            return try table.loadOrder(for: wanted, skipping: builtin.union(present).union(skipping))
        } catch {
            outcome.failures.append(.resolve(error))
            return nil
        }
    }

    /// Starts loading `names` and their dependencies on a thread of their own (`BackgroundModuleLoad`); a later
    /// `load` that needs one of them waits for it. Returns at once what cannot be loaded at all (unknown names);
    /// when no thread can start, the modules are loaded here and this is their outcome.
    public mutating func loadInBackground(_ names: [ModuleName], label: String, logger: Logger) -> Outcome {
        var outcome = Outcome()
        guard let order = loadOrder(for: names, skipping: inFlight, &outcome, logger: logger), !order.isEmpty else {
            return outcome
        }
        let copy = workerCopy()
        do {
            let job = try BackgroundModuleLoad(label: label, modules: Set(order), niceness: Self.backgroundNiceness) {
                _ in
                var worker = copy
                return worker.load(order, logger: Self.silent)
            }
            background.append(job)
            logger.info(
                "loading \(order.count) \(label) in the background: \(order.map(\.rawValue).joined(separator: " "))")
        } catch {
            logger.warning("\(error); loading \(label) now")
            outcome.absorb(load(order, logger: logger))
        }
        return outcome
    }

    /// Loads the drivers for devices that have none yet, by matching each
    /// /sys/bus/*/devices/*/modalias against the table. Repeats while new modules were loaded,
    /// since a bus driver (virtio_pci) makes new devices (virtio0) appear. Modules the aliases name
    /// but the table lacks (not shipped) are skipped. Devices for which `deferring` is true are left to a
    /// background load (`settleDevices` waits for it, then looks again).
    public mutating func loadForPresentDevices(
        logger: Logger, maxRounds: Int = 4, deferring: @escaping @Sendable (String) -> Bool = { _ in false }
    ) -> Outcome {
        var outcome = foregroundDeviceRounds(logger: logger, maxRounds: maxRounds) { !deferring($0) }
        let deferred = devicesWaiting(deferring)
        if deferred.isEmpty { return outcome }
        deferredDevices = deferring
        let copy = workerCopy()
        let label = "device drivers"
        // The named loads (the NFS client, the overlay) go first: the root mount waits for them, nothing waits for
        // a disk controller's or a display's driver on a network boot, and on one CPU the two would share it.
        let before = background.filter { $0.modules != nil }
        do {
            let job = try BackgroundModuleLoad(label: label, modules: nil, niceness: Self.backgroundNiceness) {
                stopRequested in
                for load in before { load.waitUntilFinished() }
                var worker = copy
                return worker.foregroundDeviceRounds(
                    logger: Self.silent, maxRounds: maxRounds, filter: deferring, until: stopRequested)
            }
            background.append(job)
            logger.info(
                "loading the drivers of \(deferred.count) other devices in the background: \(deferred.joined(separator: " "))"
            )
        } catch {
            logger.warning("\(error); loading the other devices' drivers now")
            outcome.absorb(foregroundDeviceRounds(logger: logger, maxRounds: maxRounds, filter: deferring))
        }
        return outcome
    }

    /// Waits for the background device-driver loads, then loads drivers for every device still without one (a
    /// disk behind a controller the background loaded). For steps that need local block devices.
    public mutating func settleDevices(logger: Logger, maxRounds: Int = 4) -> Outcome {
        for job in background where job.modules == nil { settle(job, logger: logger) }
        var outcome = claimAll()
        outcome.absorb(foregroundDeviceRounds(logger: logger, maxRounds: maxRounds) { _ in true })
        return outcome
    }

    /// Waits for every background load and returns what no load has claimed yet.
    public mutating func settleAll(logger: Logger) -> Outcome {
        for job in background { settle(job, logger: logger) }
        return claimAll()
    }

    /// Before switch_root (exec ends every thread): waits for the named loads, asks the device-driver loads to stop
    /// after the module in hand and waits for that. Returns what no load has claimed and, when devices the
    /// background would have served are still without a driver, the work that loads theirs: the process that frees
    /// the initramfs runs it after PID 1's exec (`SwitchRoot.successorWork`), with the initramfs's root as the place
    /// of the module files. Nothing in the initramfs needs those drivers (a step that does settles them first), and
    /// under QEMU TCG PID 1 waited up to a second for the IDE and CD-ROM drivers here.
    public mutating func settleForSwitchRoot(logger: Logger)
        -> (Outcome, successor: (@Sendable (FileDescriptor) -> Void)?)
    {
        for job in background where job.modules == nil { job.requestStop() }
        let outcome = settleAll(logger: logger)
        guard let deferring = deferredDevices else { return (outcome, nil) }
        let waiting = devicesWaiting(deferring)
        if waiting.isEmpty { return (outcome, nil) }
        logger.info(
            "the drivers of \(waiting.count) devices load after switch_root, beside the image's init: \(waiting.joined(separator: " "))"
        )
        var handedOn = workerCopy()
        handedOn.failedInBackground = failedInBackground
        let copy = handedOn
        let successor: @Sendable (FileDescriptor) -> Void = { initramfsRoot in
            var worker = copy
            worker.filesRoot = initramfsRoot
            _ = worker.foregroundDeviceRounds(logger: Self.silent, maxRounds: 4, filter: deferring)
        }
        return (outcome, successor)
    }

    /// The background loads waited for since the last call, for the timeline.
    public mutating func takeBackgroundReports() -> [BackgroundModuleLoad.Report] {
        defer { reports = [] }
        return reports
    }

    /// The devices that are neither network controllers nor an unknown kind: PCI devices of a class other than
    /// network (02), virtio devices other than network (type 1), SCSI devices. Their drivers can load while the
    /// network comes up; every other device's before it (a NIC on a bus nodeinit does not classify).
    public static func isDeferrable(modalias: String) -> Bool {
        let bytes = Array(modalias.utf8)
        if modalias.hasPrefix("scsi:") { return true }
        if modalias.hasPrefix("virtio:d") {
            // virtio:d%08Xv%08X
            return bytes.count >= 16 && String(decoding: bytes[8..<16], as: UTF8.self) != "00000001"
        }
        if modalias.hasPrefix("pci:v") {
            // pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X: the base class is at offset 44.
            guard bytes.count >= 46, bytes[42] == UInt8(ascii: "b"), bytes[43] == UInt8(ascii: "c") else {
                return false
            }
            return !(bytes[44] == UInt8(ascii: "0") && bytes[45] == UInt8(ascii: "2"))
        }
        return false
    }

    // MARK: background bookkeeping

    /// Below the boot's own thread: CFS gives a nice-19 thread about 1.5% of a CPU the boot wants.
    static let backgroundNiceness: Int32 = 19
    private static let silent = Logger(label: "nodeinit.background", factory: { _ in SwiftLogNoOpLogHandler() })

    /// The modules background loads will load (those known in advance).
    private var inFlight: Set<ModuleName> {
        background.reduce(into: Set<ModuleName>()) { $0.formUnion($1.modules ?? []) }
    }

    /// A copy for a background thread: same table, parameters, blacklist and loaded set, no background state.
    private func workerCopy() -> ModuleLoader {
        ModuleLoader(
            table: table, indexSource: indexSource, directory: directory, present: present,
            parameters: parameters, blacklist: blacklist)
    }

    private mutating func settle(_ job: BackgroundModuleLoad, logger: Logger) {
        guard let index = background.firstIndex(where: { $0 === job }) else { return }
        background.remove(at: index)
        let (outcome, report) = job.wait()
        if report.waitedMilliseconds > 0 {
            logger.info("waited \(report.waitedMilliseconds) ms for the \(job.label) loading in the background")
        }
        reports.append(report)
        for name in outcome.loaded where !present.contains(name) {
            present.insert(name)
            unclaimed.loaded.append(name)
        }
        for failure in outcome.failures {
            if let name = failure.module {
                if present.contains(name) { continue }
                failedInBackground.insert(name)
            }
            unclaimed.failures.append(failure)
        }
    }

    /// Hands out what background loads did for `names` (failures without a module name go to the first claim).
    private mutating func claim(_ names: Set<ModuleName>) -> Outcome {
        var claimed = Outcome()
        var rest = Outcome()
        for name in unclaimed.loaded {
            if names.contains(name) { claimed.loaded.append(name) } else { rest.loaded.append(name) }
        }
        for failure in unclaimed.failures {
            if failure.module.map({ names.contains($0) }) ?? true {
                claimed.failures.append(failure)
            } else {
                rest.failures.append(failure)
            }
        }
        unclaimed = rest
        return claimed
    }

    private mutating func claimAll() -> Outcome {
        defer { unclaimed = Outcome() }
        return unclaimed
    }

    // MARK: devices

    /// Candidate modules for one device: its aliases' modules, shipped, not blacklisted.
    private func candidates(for modalias: String) -> [ModuleName] {
        table.modules(matching: modalias).filter { !blacklist.contains($0) && table.index(of: $0) != nil }
    }

    /// The unbound devices `filter` accepts that a shipped module not loaded (nor failed) yet would drive.
    private func devicesWaiting(_ filter: (String) -> Bool) -> [String] {
        Self.unboundModaliases().filter(filter).filter { modalias in
            candidates(for: modalias).contains {
                !present.contains($0) && !builtin.contains($0) && !failedInBackground.contains($0)
            }
        }
    }

    /// The rounds of `loadForPresentDevices` over the devices `filter` accepts, ending early once `stopRequested()`.
    private mutating func foregroundDeviceRounds(
        logger: Logger, maxRounds: Int, filter: (String) -> Bool, until stopRequested: () -> Bool = { false }
    ) -> Outcome {
        var outcome = Outcome()
        var tried: Set<ModuleName> = []
        for _ in 0..<maxRounds {
            if stopRequested() { break }
            var candidates: [ModuleName] = []
            for modalias in Self.unboundModaliases() where filter(modalias) {
                for module in self.candidates(for: modalias)
                where !tried.contains(module) && !present.contains(module) && !builtin.contains(module) {
                    tried.insert(module)
                    candidates.append(module)
                    logger.debug("device \(modalias) wants module \(module)")
                }
            }
            if candidates.isEmpty { break }
            let round = load(candidates, logger: logger, until: stopRequested)
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
        if let filesRoot {
            let below = String(path.drop(while: { $0 == "/" }))
            let raw = openat(filesRoot.rawValue, below, O_RDONLY | O_CLOEXEC)
            guard raw >= 0 else { throw .open(module: name, path: path, .captured) }
            fd = FileDescriptor(rawValue: raw)
        } else {
            do {
                fd = try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec])
            } catch {
                throw .open(module: name, path: path, Errno(thrown: error))
            }
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
