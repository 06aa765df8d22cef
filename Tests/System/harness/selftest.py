"""The harness's busybox-only initramfs (selftest_init.sh as /init), independent of nodeinit."""

from __future__ import annotations

import os
import subprocess

from . import paths
from .procs import HarnessError

SELFTEST_INIT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "selftest_init.sh")


def build_selftest_initramfs() -> str:
    out = os.path.join(paths.BUILD, "selftest-initramfs.img")
    nodeinit = os.path.join(paths.BUILD, "nodeinit")
    sources = [SELFTEST_INIT, nodeinit, os.path.abspath(__file__)]
    if os.path.isfile(out) and all(os.path.getmtime(s) < os.path.getmtime(out) for s in sources):
        return out
    # zstd at nodeinit's default level, as build/initramfs.img is: `make bench-boot` compares the two archives' sizes
    # and the kernel unpacks both the same way (about 15 s to build, once). `nodeinit initramfs` packs the script
    # as /init.
    cmd = [nodeinit, "initramfs", "--quiet", "--modules-dir", paths.modules_dir(), "--init", SELFTEST_INIT,
           "--out", out, "--compress", "zstd"]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise HarnessError(f"building the self-test initramfs failed: {result.stderr.strip()}")
    return out
