"""Issue 12 item 3: the firmware `nodeinit initramfs` packs is what the booted kernel loads, without udev.

QEMU emulates no NIC that needs firmware, so the kernel's own firmware self-test module, test_firmware (shipped in
Debian's kernel), asks the firmware loader for files by name, exactly as a driver's request_firmware() does, from
the initramfs root before switch_root. The initramfs is built here with the compiled-in module list (r8169, bnx2x,
ice... declare firmware), test_firmware added, and a fake firmware directory: a plain file r8169 declares, one it
declares stored only as .xz (Debian's 6.1 kernel decompresses xz itself), and ice's ice.pkg as a symlink to a
versioned file, as Debian ships it. The boot stops at rd.break=initqueue (drivers loaded, network not yet up); the
shell on the serial console triggers each request and prints the md5 of what the kernel loaded, which must be the
md5 of the file as written on the host (the uncompressed bytes for the .xz one). A name not packed must fail.

No NFS server is needed: the boot never gets past the pause.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from harness import paths
from harness.procs import HarnessError
from harness.qemu import VM

BOUND = 180  # seconds of wall time under TCG on a busy 2-core machine
SYSFS = "/sys/devices/virtual/misc/test_firmware"


def _write(path: str, data: bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)


@pytest.fixture(scope="module")
def firmware_initramfs():
    """(initramfs path, {firmware name: md5 of the bytes the kernel must hand over})."""
    nodeinit = os.path.join(paths.BUILD, "nodeinit")
    if not os.access(nodeinit, os.X_OK):
        raise HarnessError(f"{nodeinit} is missing (run 'make static')")
    work = tempfile.mkdtemp(prefix="nodeinit-firmware-")
    try:
        firmware = os.path.join(work, "firmware")
        plain = os.urandom(4096)
        compressed = os.urandom(3000) + bytes(3000)  # compressible tail: the .xz differs from the bytes
        package = os.urandom(8192)
        _write(os.path.join(firmware, "rtl_nic/rtl8168h-2.fw"), plain)
        _write(os.path.join(firmware, "rtl_nic/rtl8168g-2.fw"), compressed)
        subprocess.run(["xz", "--check=crc32", os.path.join(firmware, "rtl_nic/rtl8168g-2.fw")], check=True)
        _write(os.path.join(firmware, "intel/ice/ddp/ice-9.9.9.9.pkg"), package)
        os.symlink("ice-9.9.9.9.pkg", os.path.join(firmware, "intel/ice/ddp/ice.pkg"))
        out = os.path.join(paths.BUILD, "firmware-test-initramfs.img")
        result = subprocess.run(
            [nodeinit, "initramfs", "--modules-dir", paths.modules_dir(), "--init", os.path.join(paths.BUILD, "nodeinit-node"), "--out", out,
             "--compress", "zstd", "--level", "3", "--firmware-dir", firmware, "--add-module", "test_firmware",
             "--verbose"],
            capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr
        report = result.stdout
        assert "r8169: rtl_nic/rtl8168h-2.fw: packed as lib/firmware/rtl_nic/rtl8168h-2.fw" in report, report
        assert "r8169: rtl_nic/rtl8168g-2.fw: packed as lib/firmware/rtl_nic/rtl8168g-2.fw.xz" in report, report
        assert "ice: intel/ice/ddp/ice.pkg: packed as lib/firmware/intel/ice/ddp/ice-9.9.9.9.pkg" in report, report
        yield out, {
            "rtl_nic/rtl8168h-2.fw": hashlib.md5(plain).hexdigest(),
            "rtl_nic/rtl8168g-2.fw": hashlib.md5(compressed).hexdigest(),
            "intel/ice/ddp/ice.pkg": hashlib.md5(package).hexdigest(),
        }
        os.unlink(out)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _shell(vm: VM, deadline: float) -> None:
    """Waits for the debug shell to answer on the serial console."""
    probe = 0
    while time.monotonic() < deadline and vm.running():
        probe += 1
        start = vm.position()
        vm.send(f"echo PROBE-$(({probe} * 1000 + 7))\n")
        try:
            vm.wait_for(rf"^PROBE-{probe * 1000 + 7}\r?$", timeout=4, start=start)
            return
        except HarnessError:
            continue
    raise AssertionError(f"no shell answered on the serial console; see {vm.log_path}")


def _loaded_md5(vm: VM, name: str, tag: int) -> str | None:
    """Asks the kernel for `name` through test_firmware; the md5 of what it loaded, None when the request failed."""
    start = vm.position()
    vm.send(f"if echo -n {name} > {SYSFS}/trigger_request; then md5sum /dev/test_firmware; "
            f"else echo REQUEST-FAILED; fi; echo DONE-$(({tag} + 1))\n")
    match = vm.wait_for(rf"^(?:([0-9a-f]{{32}})  /dev/test_firmware|(REQUEST-FAILED))\r?\nDONE-{tag + 1}\r?$",
                        timeout=30, start=start)
    digest = match.group(1)
    return digest.decode() if digest else None


def test_packed_firmware_is_loaded_by_the_kernel(boot, firmware_initramfs):
    initrd, expected = firmware_initramfs
    vm = boot("ip=dhcp root=nfs:10.0.2.2:/nonexistent rd.driver.pre=test_firmware rd.break=initqueue",
              initrd=initrd)
    deadline = time.monotonic() + BOUND
    _shell(vm, deadline)
    start = vm.position()
    vm.send(f"test -e {SYSFS}/trigger_request && echo TEST-FIRMWARE-$((6 * 7))\n")
    vm.wait_for(r"^TEST-FIRMWARE-42\r?$", timeout=20, start=start)
    for tag, (name, digest) in enumerate(expected.items(), start=100):
        assert _loaded_md5(vm, name, tag * 10) == digest, f"{name}: wrong or no bytes; see {vm.log_path}"
    assert _loaded_md5(vm, "rtl_nic/rtl8125b-2.fw", 9990) is None, f"an unpacked name loaded; see {vm.log_path}"
    assert vm.elapsed() < BOUND
