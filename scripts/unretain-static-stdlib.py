#!/usr/bin/env python3
"""A copy of the toolchain's static Swift libraries whose Swift functions the linker may drop when unused.

swiftc marks every public function of a module it compiles SHF_GNU_RETAIN (its `llvm.used`), because a library's
public functions may have callers outside the link. The toolchain's static libraries (libswiftCore.a, ...) are
built that way, so `--gc-sections` keeps the whole public standard library in every static executable, used or
not, with the tables those functions reach (Unicode scalar names alone are about 560 KB). nodeinit's executables
are whole programs: nothing outside the link calls into them, and a static executable has no dlsym of Swift
symbols. This copies the toolchain's `lib/swift_static/<os>` (symbolic links, except the archives it changes), and
in each archive member that swiftc produced (it has `swift5_*` metadata sections) clears SHF_GNU_RETAIN on its
`.text.*` sections only. Metadata, conformance records and everything they reference stay retained; C and C++
members (the runtime) are not touched.

Usage: unretain-static-stdlib.py TOOLCHAIN_LIB OUT
  TOOLCHAIN_LIB  the toolchain's usr/lib (holds swift/ and swift_static/)
  OUT            where the copy goes (OUT/swift_static)
Pass `-resource-dir OUT/swift_static` to swiftc (-static-executable compiles and links from that directory).
Prints OUT/swift_static, the resource directory, last. Does nothing when OUT is complete and newer than the toolchain.
"""

import os
import shutil
import struct
import subprocess
import sys
import tempfile

SHF_GNU_RETAIN = 0x200000


def sections(data):
    """(name, header offset, flags) of each section of an ELF64 little-endian object."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError("not an ELF64 little-endian object")
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    names = struct.unpack_from("<Q", data, shoff + shstrndx * shentsize + 0x18)[0]
    for index in range(shnum):
        header = shoff + index * shentsize
        start = names + struct.unpack_from("<I", data, header)[0]
        name = bytes(data[start : data.index(0, start)])
        yield name, header, struct.unpack_from("<Q", data, header + 8)[0]


def unretain(path):
    """Clears SHF_GNU_RETAIN on the .text.* sections of a Swift object; returns how many it changed (0: none,
    or not a Swift object)."""
    with open(path, "rb") as source:
        data = bytearray(source.read())
    found = list(sections(data))
    if not any(name.startswith(b"swift5_") for name, _, _ in found):
        return 0
    changed = 0
    for name, header, flags in found:
        if name.startswith(b".text.") and flags & SHF_GNU_RETAIN:
            struct.pack_into("<Q", data, header + 8, flags & ~SHF_GNU_RETAIN)
            changed += 1
    if changed:
        with open(path, "wb") as target:
            target.write(data)
    return changed


def copy_archive(source, target, work):
    """Writes `target`: `source` with its Swift members unretained (members replaced by name, in place)."""
    members = subprocess.run(["ar", "t", source], check=True, capture_output=True, text=True).stdout.split()
    candidates = [m for m in members if m.endswith(".o") and members.count(m) == 1 and not m.endswith((".c.o", ".cpp.o"))]
    if not candidates:
        return 0
    folder = tempfile.mkdtemp(dir=work)
    subprocess.run(["ar", "x", os.path.abspath(source), *candidates], check=True, cwd=folder)
    changed = {m: unretain(os.path.join(folder, m)) for m in candidates}
    patched = [m for m, count in changed.items() if count]
    if not patched:
        return 0
    shutil.copyfile(source, target + ".tmp")
    subprocess.run(["ar", "r", os.path.abspath(target + ".tmp"), *patched], check=True, cwd=folder)
    os.replace(target + ".tmp", target)
    return sum(changed.values())


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.split("\n\n")[2])
    toolchain, out = (os.path.abspath(a) for a in sys.argv[1:])
    static = os.path.join(toolchain, "swift_static")
    stamp = os.path.join(out, ".unretained")
    core = os.path.join(static, "linux", "libswiftCore.a")
    if not os.path.isfile(core):
        sys.exit(f"unretain-static-stdlib: {core} not found (is {toolchain} a Swift toolchain's usr/lib?)")
    if os.path.isfile(stamp) and os.path.getmtime(stamp) >= os.path.getmtime(core):
        print(os.path.join(out, "swift_static"))
        return
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(os.path.join(out, "swift_static"))
    work = tempfile.mkdtemp(prefix="unretain-")
    try:
        for entry in sorted(os.listdir(static)):
            if entry != "linux":
                os.symlink(os.path.join(static, entry), os.path.join(out, "swift_static", entry))
                continue
            os.makedirs(os.path.join(out, "swift_static", "linux"))
            for item in sorted(os.listdir(os.path.join(static, "linux"))):
                source = os.path.join(static, "linux", item)
                target = os.path.join(out, "swift_static", "linux", item)
                if item.endswith(".a") and os.path.isfile(source):
                    count = copy_archive(source, target, work)
                    if count:
                        print(f"unretain-static-stdlib: {item}: {count} function sections", file=sys.stderr)
                        continue
                os.symlink(source, target)
    finally:
        shutil.rmtree(work)
    open(stamp, "w").close()
    print(os.path.join(out, "swift_static"))


if __name__ == "__main__":
    main()
