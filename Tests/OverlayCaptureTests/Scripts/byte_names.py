#!/usr/bin/env python3
"""Byte-exact names for the names-as-bytes tests (Linux names are bytes; these are not all UTF-8).

Usage:
  byte_names.py lower DIR    make the lower tree: bad\\xffname, bad\\xfename, op\\xfeq/{old,sub/old2}, keep
  byte_names.py change DIR   in the merged view: n\\xff, n\\xfe, a\\nb, a 255-byte name, rm bad\\xffname,
                             op\\xfeq replaced (opaque), a symlink and a hard link with non-UTF-8 names and targets
  byte_names.py tree ROOT    JSON {hex(relative path): {"type", "mode", "size", "sha256", "target"}}; names read
                             with os.listdir on bytes, symlinks never followed, targets in hex
  byte_names.py tar LAYER    JSON [{"name", "linkname", "type", "hdrcharset"}], names in hex, as Python's tarfile
                             reads them with encoding='utf-8', errors='surrogateescape'
"""
import hashlib
import json
import os
import stat
import sys
import tarfile

LONG = b"\xff" * 100 + b"x" * 155  # 255 bytes, the longest name Linux allows


def lower(root):
    os.chdir(root)
    for name in (b"bad\xffname", b"bad\xfename", b"keep"):
        with open(name, "wb") as f:
            f.write(name)
    os.makedirs(b"op\xfeq/sub")
    with open(b"op\xfeq/old", "wb") as f:
        f.write(b"old")
    with open(b"op\xfeq/sub/old2", "wb") as f:
        f.write(b"old2")


def change(root):
    os.chdir(root)
    for name in (b"n\xff", b"n\xfe", b"a\nb", LONG, b"back\\slash", "caf\u00e9".encode()):
        with open(name, "wb") as f:
            f.write(b"data of " + name)
    os.unlink(b"bad\xffname")
    remove_tree(b"op\xfeq")
    os.mkdir(b"op\xfeq")
    with open(b"op\xfeq/new\xff", "wb") as f:
        f.write(b"new")
    os.symlink(b"n\xff", b"link\xfd")
    os.link(b"n\xfe", b"hard\xfc")
    os.mkdir(b"dir\xfb")
    with open(b"dir\xfb/inner\xfa", "wb") as f:
        f.write(b"inner")


def remove_tree(path):
    if os.path.isdir(path) and not os.path.islink(path):
        for name in os.listdir(path):
            remove_tree(path + b"/" + name)
        os.rmdir(path)
    elif os.path.lexists(path):
        os.unlink(path)


def tree(root):
    out = {}

    def walk(relative):
        full = root + (b"/" + relative if relative else b"")
        for name in sorted(os.listdir(full)):
            rel = relative + b"/" + name if relative else name
            path = root + b"/" + rel
            st = os.lstat(path)
            kind = {stat.S_IFREG: "file", stat.S_IFDIR: "dir", stat.S_IFLNK: "symlink"}.get(stat.S_IFMT(st.st_mode), "other")
            record = {"type": kind, "mode": stat.S_IMODE(st.st_mode), "size": st.st_size if kind == "file" else 0,
                      "sha256": None, "target": None}
            if kind == "file":
                with open(path, "rb") as f:
                    record["sha256"] = hashlib.sha256(f.read()).hexdigest()
            if kind == "symlink":
                record["target"] = os.readlink(path).hex()
            out[rel.hex()] = record
            if kind == "dir":
                walk(rel)

    walk(b"")
    return out


def layer(path):
    out = []
    with tarfile.open(path, mode="r:", encoding="utf-8", errors="surrogateescape") as archive:
        for member in archive:
            out.append({"name": member.name.encode("utf-8", "surrogateescape").hex(),
                        "linkname": member.linkname.encode("utf-8", "surrogateescape").hex(),
                        "type": member.type.decode("ascii", "replace"),
                        "hdrcharset": member.pax_headers.get("hdrcharset")})
    return out


def main():
    command, argument = sys.argv[1], os.fsencode(sys.argv[2])
    if command == "lower":
        lower(argument)
    elif command == "change":
        change(argument)
    elif command == "tree":
        json.dump(tree(argument), sys.stdout)
    elif command == "tar":
        json.dump(layer(argument), sys.stdout)
    else:
        sys.exit("unknown command " + command)


if __name__ == "__main__":
    main()
