#!/usr/bin/env python3
"""Describes a directory tree as JSON for comparing an applied image with the merged overlay view.

Usage: tree_dump.py ROOT
Prints {relative path: {"type", "mode", "uid", "gid", "size", "sha256", "target", "mtime_ns", "xattrs", "links"}}
where "links" lists the other paths sharing the inode (hard-link identity) and xattrs holds user.*, security.*
and system.posix_acl_* values in hex. Symlinks are never followed.
"""
import hashlib
import json
import os
import stat
import sys


def describe(root):
    entries = {}
    inodes = {}
    for directory, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(dirs + files):
            path = os.path.join(directory, name)
            rel = os.path.relpath(path, root)
            st = os.lstat(path)
            kind = {stat.S_IFREG: "file", stat.S_IFDIR: "dir", stat.S_IFLNK: "symlink", stat.S_IFCHR: "char",
                    stat.S_IFBLK: "block", stat.S_IFIFO: "fifo", stat.S_IFSOCK: "socket"}.get(stat.S_IFMT(st.st_mode))
            record = {"type": kind, "mode": stat.S_IMODE(st.st_mode), "uid": st.st_uid, "gid": st.st_gid,
                      "size": st.st_size if kind == "file" else 0, "sha256": None, "target": None,
                      "mtime_ns": st.st_mtime_ns, "rdev": [os.major(st.st_rdev), os.minor(st.st_rdev)]
                      if kind in ("char", "block") else None, "xattrs": {}}
            if kind == "file":
                digest = hashlib.sha256()
                with open(path, "rb") as handle:
                    for chunk in iter(lambda: handle.read(1 << 20), b""):
                        digest.update(chunk)
                record["sha256"] = digest.hexdigest()
            if kind == "symlink":
                record["target"] = os.readlink(path)
            try:
                names = os.listxattr(path, follow_symlinks=False)
            except OSError:
                names = []
            for attr in sorted(names):
                if attr.startswith(("user.", "security.", "system.posix_acl")) and not attr.startswith("user.overlay."):
                    record["xattrs"][attr] = os.getxattr(path, attr, follow_symlinks=False).hex()
            if kind != "dir" and st.st_nlink > 1:
                inodes.setdefault((st.st_dev, st.st_ino), []).append(rel)
            entries[rel] = record
    for paths in inodes.values():
        for path in paths:
            entries[path]["links"] = sorted(p for p in paths if p != path)
    for record in entries.values():
        record.setdefault("links", [])
    return entries


if __name__ == "__main__":
    json.dump(describe(sys.argv[1]), sys.stdout, sort_keys=True)
