"""Checks the harness itself (kernel, modules, QEMU networking, ganesha) with a busybox /init."""

import pytest

from harness.report import parse_report
from harness.selftest import build_selftest_initramfs

pytestmark = pytest.mark.harness


@pytest.mark.parametrize("vers", ["4.2", "3"])
def test_busybox_init_boots_image_over_nfs(boot, nfs_server, test_image, vers):
    vm = boot(f"selftest.root={test_image} selftest.vers={vers}", initrd=build_selftest_initramfs())
    vm.wait_exit(120)
    report = parse_report(vm.output)
    assert report is not None, f"the image's init never ran; see {vm.log_path}"
    assert report.done
    assert report.init_pid == 1
    root = report.mount_at("/")
    assert root is not None and root.fstype == "overlay"
    assert report.root_writable is True
    assert "SELFTEST: nfs mounted vers=" + vers in vm.output
    assert vm.elapsed() < 120
