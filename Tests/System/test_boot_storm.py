"""Issue 14: several nodes booting one image at once from one ganesha, each with its own NFSv4 client identity.

N QEMU nodes (STORM_NODES, default 3: TCG on 2 cores) with distinct MACs boot the test image together over NFSv4.2
(`root=nfs4:`), once from a DHCP server that sends no host names (every kernel client owner would otherwise be
`Linux NFSv4.1 (none)`: one client to the server) and once with a distinct host name each. Each must reach the image's
init, mount v4.2, and show `nodeinit-<its MAC>` as `nfs.nfs4_unique_id` in the booted system.
"""

from __future__ import annotations

import os
import time

import pytest

from harness.qemu import GUEST_HOST_ADDR
from harness.report import parse_report

SERVER = GUEST_HOST_ADDR
NODES = int(os.environ.get("STORM_NODES", "3"))
BOUND = 120 + 90 * NODES  # wall seconds for the whole storm: N TCG guests share 2 cores


# The storm without host names is the one that broke NFSv4 before (one client owner for all): CI runs it; the one
# with host names is in `make vm-test-full`.
@pytest.mark.parametrize("host_names", [False, pytest.param(True, marks=pytest.mark.full)],
                         ids=["no-host-names", "host-names"])
def test_boot_storm(boot, nfs_server, test_image, host_names):
    started = time.monotonic()
    nodes = []
    for index in range(NODES):
        mac = f"52:54:00:5a:00:{index + 1:02x}"
        vm = boot(f"ip=dhcp root=nfs4:{SERVER}:{test_image} rd.retry=300", mac=mac, memory_mb=512,
                  dhcp_hostname=f"storm-{index + 1}" if host_names else None)
        nodes.append((mac, vm))
    identities = []
    for mac, vm in nodes:
        vm.wait_exit(max(10.0, BOUND - (time.monotonic() - started)))
        report = parse_report(vm.output)
        assert report is not None and report.done, f"node {mac} did not reach the image's init; see {vm.log_path}"
        lower = report.mounts_of_type("nfs4")
        assert lower and "vers=4.2" in lower[0].options, (lower, vm.log_path)
        expected = "nodeinit-" + mac.replace(":", "")
        assert f"NODEINIT-TEST: nfs4-unique-id {expected}" in vm.output, vm.log_path
        identities.append(expected)
        if host_names:
            assert report.hostname.startswith("storm-"), report.hostname
    assert len(set(identities)) == NODES, identities
    print(f"storm: {NODES} nodes ({'with' if host_names else 'without'} host names) booted in "
          f"{time.monotonic() - started:.0f} s wall")
