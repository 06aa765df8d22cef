import InitramfsImage
import NodeSys

extension InitramfsBuilder {
    /// Why a build failed; every case names the file or directory concerned and what is wrong with it.
    public enum Error: Swift.Error, CustomStringConvertible {
        case noKernelVersion
        case modulesDirectoryMissing(String)
        case moduleIndexMissing(String)
        case moduleIndexUnreadable(FileContents.Error)
        case moduleClosure(ModuleClosure.Error)
        case moduleListUnreadable(FileContents.Error)
        case inputMissing(what: String, path: String, FileTree.Error)
        case notARegularFile(what: String, path: String)
        case notExecutable(what: String, path: String)
        case notStatic(what: String, path: String, ELFLinkage)
        case extraFileSpec(String)
        case staging(path: String, String)
        case depmodNotFound(searched: [String])
        case depmod(ChildCommand.Error)
        /// The index depmod wrote cannot become the boot's module table (a module's dependencies loop).
        case moduleTable(String)
        case busyboxApplets(ChildCommand.Error)
        case read(path: String, FileTree.Error)
        case changedWhileRead(path: String, declared: Int64, read: Int64)
        case output(path: String, String)
        case archive(String)
        case compression(String)
        case kernelConfigUnreadable(FileContents.Error)
        case firmwareUnreadable(path: String, String)

        public var description: String {
            switch self {
            case .noKernelVersion: "give --kver or --modules-dir"
            case .modulesDirectoryMissing(let path): "modules directory \(path) does not exist"
            case .moduleIndexMissing(let path): "\(path) is missing: run 'depmod -b ROOT KVER' for this kernel first"
            case .moduleIndexUnreadable(let error): "module index unreadable: \(error)"
            case .moduleClosure(let error): "\(error)"
            case .moduleListUnreadable(let error): "module list unreadable: \(error)"
            case .inputMissing(let what, let path, let error): "\(what) \(path) cannot be opened: \(error)"
            case .notARegularFile(let what, let path): "\(what) \(path) is not a regular file"
            case .notExecutable(let what, let path): "\(what) \(path) is not executable"
            case .notStatic(let what, let path, let linkage):
                linkage == .notELF
                    ? "\(what) \(path) is not an ELF executable (a statically linked one is needed)"
                    : "\(what) \(path) is dynamically linked; the initramfs has no libraries (use busybox-static)"
            case .extraFileSpec(let spec): "--add-file \(spec): expected SOURCE:DEST"
            case .staging(let path, let message): "staging the modules in \(path): \(message)"
            case .depmodNotFound(let searched):
                "depmod not found (looked in \(searched.joined(separator: ", "))): install kmod"
            case .depmod(let error): "regenerating the module index: \(error)"
            case .moduleTable(let message): "computing \(ModuleTable.fileName) from the regenerated index: \(message)"
            case .busyboxApplets(let error): "listing busybox applets: \(error)"
            case .read(let path, let error): "reading \(path): \(error)"
            case .changedWhileRead(let path, let declared, let read):
                "\(path) changed while being read (\(declared) bytes expected, \(read) read)"
            case .output(let path, let message): "writing \(path): \(message)"
            case .archive(let message): "archive: \(message)"
            case .compression(let message): "compression: \(message)"
            case .kernelConfigUnreadable(let error): "kernel configuration unreadable: \(error)"
            case .firmwareUnreadable(let path, let message): "firmware \(path): \(message)"
            }
        }
    }
}
