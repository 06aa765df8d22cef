"""pytest fixtures for the QEMU system tests.

Session-wide: the exported images and one loopback NFS server (rpcbind + ganesha, machine-wide
lock held for the session). Per test: `boot(...)` starts a VM whose serial console goes to
build/vm-test-logs/<test>.log; every VM is killed by pid when the test ends, pass or fail.
"""

from __future__ import annotations

import os
import re
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import images, nfs, paths  # noqa: E402
from harness.debian import debian_image as build_debian_image  # noqa: E402
from harness.nodesave import scratch_images_dir  # noqa: E402
from harness.qemu import VM, VMConfig  # noqa: E402

BASE_APPEND = "console=ttyS0 panic=1"


def pytest_configure(config):
    config.addinivalue_line("markers", "harness: checks the harness itself, without nodeinit")
    config.addinivalue_line("markers", "full: only in `make vm-test-full` (CI's `make test` runs the others)")


@pytest.fixture(scope="session")
def image_paths() -> dict[str, str]:
    root = paths.images_dir()
    return images.build_images(root)


@pytest.fixture(scope="session")
def debian_image() -> str:
    """The Debian 12 systemd image (debootstrap, cached in build/images/debian-12)."""
    return build_debian_image()


@pytest.fixture(scope="session")
def nfs_server(image_paths, debian_image):
    exports = [nfs.Export(debian_image), nfs.Export(image_paths["test-image"]), nfs.Export(image_paths["xcat-rootimg"]),
               nfs.Export(image_paths["demo-image"]), nfs.Export(image_paths["rw"], read_write=True),
               nfs.Export(scratch_images_dir())]
    with nfs.NFSServer(exports) as server:
        yield server


@pytest.fixture
def test_image(image_paths) -> str:
    return image_paths["test-image"]


@pytest.fixture
def boot(request):
    """boot(append, nic=..., initrd=..., memory_mb=..., host_forwards=[(host, guest)], extra_args=[...]) -> a started
    VM (killed at teardown)."""
    vms: list[VM] = []
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)

    def start(append: str, nic: str = "virtio-net-pci", initrd: str | None = None, memory_mb: int = 1024,
              dhcp_hostname: str | None = None, host_forwards: list[tuple[int, int]] | None = None,
              extra_args: list[str] | None = None, mac: str = "52:54:00:12:34:56") -> VM:
        log = os.path.join(paths.logs_dir(), f"{name}{'-' + str(len(vms)) if vms else ''}.log")
        config = VMConfig(kernel=paths.kernel(), initrd=initrd or paths.initramfs(),
                          append=f"{BASE_APPEND} {append}", nic=nic, memory_mb=memory_mb,
                          dhcp_hostname=dhcp_hostname, host_forwards=host_forwards or [],
                          extra_args=extra_args or [], mac=mac)
        vm = VM(config, log)
        vms.append(vm)
        vm.start()
        return vm

    yield start
    for vm in vms:
        vm.kill()


def pytest_collection_modifyitems(config, items):
    # The harness self-checks first: when they fail, the nodeinit scenarios cannot tell anything.
    items.sort(key=lambda item: 0 if item.get_closest_marker("harness") else 1)
