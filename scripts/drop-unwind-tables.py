#!/usr/bin/env python3
"""Removes the DWARF unwind tables (.eh_frame, .eh_frame_hdr) from a static executable: drop-unwind-tables.py BINARY.

Why: they are 1.5 MB of the node's /init (13 % of it), unpacked at every boot, and nothing in a normal run reads
them. Swift errors are return values, not unwinding; the Swift runtime and libdispatch are built without C++
exceptions. What does unwind: pthread_exit and pthread_cancel (glibc unwinds the thread's stack), a C++ throw, and
_Unwind_Backtrace. Without the tables each of those aborts the process instead. The node binary calls none of
them: it never cancels a thread, its threads return from their start routine, and it never calls dispatch_main
(libdispatch's only pthread_exit). A Swift trap stops the process the same way with or without the tables, after the
same "Fatal error" line.

objcopy drops the sections and moves the data segment down in the file (its address and page offset stay); the
PT_GNU_EH_FRAME program header is then left pointing at an address nothing maps, where libgcc's unwinder would read
garbage, so it becomes PT_NULL. The result is checked: no unwind section and no PT_GNU_EH_FRAME are left.
"""
import os
import struct
import subprocess
import sys

PT_NULL = 0
PT_GNU_EH_FRAME = 0x6474E550
UNWIND_SECTIONS = (".eh_frame", ".eh_frame_hdr")


def program_header_types(data):
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise SystemExit("drop-unwind-tables: not a little-endian 64-bit ELF file")
    phoff = struct.unpack_from("<Q", data, 0x20)[0]
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    return [(phoff + i * phentsize, struct.unpack_from("<I", data, phoff + i * phentsize)[0]) for i in range(phnum)]


def program_header_types_of(path):
    with open(path, "rb") as f:
        return [kind for _, kind in program_header_types(f.read())]


def section_names(path):
    out = subprocess.run(["readelf", "-SW", path], check=True, capture_output=True, text=True).stdout
    return {field for line in out.splitlines() for field in line.replace("]", "] ").split() if field.startswith(".")}


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: drop-unwind-tables.py BINARY")
    path = sys.argv[1]
    before = os.path.getsize(path)
    tmp = path + ".unwind-tmp"
    args = ["objcopy"] + [a for name in UNWIND_SECTIONS for a in ("--remove-section", name)] + [path, tmp]
    subprocess.run(args, check=True)

    with open(tmp, "r+b") as f:
        data = bytearray(f.read())
        for offset, kind in program_header_types(data):
            if kind == PT_GNU_EH_FRAME:
                struct.pack_into("<I", data, offset, PT_NULL)
        f.seek(0)
        f.write(data)

    left = [kind for kind in program_header_types_of(tmp) if kind == PT_GNU_EH_FRAME]
    kept = section_names(tmp) & set(UNWIND_SECTIONS)
    if left or kept:
        os.unlink(tmp)
        raise SystemExit(f"drop-unwind-tables: {path} still has {sorted(kept)} and {len(left)} PT_GNU_EH_FRAME")
    os.chmod(tmp, os.stat(path).st_mode)
    os.replace(tmp, path)
    print(f"drop-unwind-tables: {path}: {before} -> {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
