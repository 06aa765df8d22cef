"""Where the harness finds the kernel, the initramfs, the images, and where it writes logs.

Every path can be overridden from the environment, so the same tests run against an admin's own
kernel and initramfs:
  NODEINIT_KERNEL     a bzImage (default: the cached Debian kernel, scripts/fetch-kernel.sh)
  NODEINIT_INITRAMFS  the initramfs under test (default: build/initramfs.img, `make initramfs`)
  NODEINIT_IMAGES     the directory of exported images (default: build/images, `make images`)
  NODEINIT_VM_LOGS    where console logs go (default: build/vm-test-logs)
"""

from __future__ import annotations

import functools
import os
import subprocess

from .procs import HarnessError

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BUILD = os.path.join(REPO, "build")


@functools.cache
def debian_kernel() -> dict[str, str]:
    """KVER, KERNEL and MODULES_DIR of the cached Debian kernel (downloaded on first use)."""
    result = subprocess.run([os.path.join(REPO, "scripts", "fetch-kernel.sh")], capture_output=True, text=True)
    if result.returncode != 0:
        raise HarnessError(f"scripts/fetch-kernel.sh failed: {result.stderr.strip()}")
    values = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    return values


def kernel() -> str:
    return os.environ.get("NODEINIT_KERNEL") or debian_kernel()["KERNEL"]


def modules_dir() -> str:
    return os.environ.get("NODEINIT_MODULES_DIR") or debian_kernel()["MODULES_DIR"]


def initramfs() -> str:
    return os.environ.get("NODEINIT_INITRAMFS") or os.path.join(BUILD, "initramfs.img")


def images_dir() -> str:
    return os.environ.get("NODEINIT_IMAGES") or os.path.join(BUILD, "images")


def logs_dir() -> str:
    return os.environ.get("NODEINIT_VM_LOGS") or os.path.join(BUILD, "vm-test-logs")
