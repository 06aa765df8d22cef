#!/usr/bin/env python3
"""Independent reader for the layer tests: lists a tar with Python's tarfile as JSON.

Usage: layer_dump.py LAYER.tar   (plain tar; the tests decompress first when needed)
Prints [{"name", "type", "mode", "uid", "gid", "uname", "gname", "size", "linkname", "devmajor", "devminor",
         "mtime", "xattrs": {name: hex}, "sha256"}...] in archive order.
"""
import hashlib
import json
import sys
import tarfile

TYPES = {tarfile.REGTYPE: "file", tarfile.AREGTYPE: "file", tarfile.DIRTYPE: "dir", tarfile.SYMTYPE: "symlink",
         tarfile.LNKTYPE: "hardlink", tarfile.CHRTYPE: "char", tarfile.BLKTYPE: "block", tarfile.FIFOTYPE: "fifo"}


def main():
    out = []
    with tarfile.open(sys.argv[1], mode="r:", encoding="utf-8") as archive:
        for member in archive:
            record = {
                "name": member.name, "type": TYPES.get(member.type, repr(member.type)), "mode": member.mode,
                "uid": member.uid, "gid": member.gid, "uname": member.uname, "gname": member.gname,
                "size": member.size, "linkname": member.linkname, "devmajor": member.devmajor,
                "devminor": member.devminor, "mtime": member.pax_headers.get("mtime", str(int(member.mtime))),
                "xattrs": {}, "sha256": None,
            }
            for key, value in member.pax_headers.items():
                if key.startswith("SCHILY.xattr."):
                    raw = value.encode("utf-8", "surrogateescape")
                    record["xattrs"][key[len("SCHILY.xattr."):]] = raw.hex()
            if member.isreg():
                digest = hashlib.sha256()
                stream = archive.extractfile(member)
                while True:
                    chunk = stream.read(1 << 20)
                    if not chunk:
                        break
                    digest.update(chunk)
                record["sha256"] = digest.hexdigest()
            out.append(record)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
