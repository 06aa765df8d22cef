"""Issue 5's QEMU scenario: node save end to end on a booted node.

A node boots a fresh copy of the test image (exported under build/images/scratch) with a node-save init that
changes files inside the node (create, modify, delete, `rm -rf dir && mkdir dir`, chmod, setcap, a new empty
directory, a symlink), prints `changes-done` and waits. The host pulls the layer through the agent the init started
(QEMU hostfwd 127.0.0.1:<port> -> guest 7070; the agent sees the host as 10.0.2.2, the NFS server, hence allowed),
checks it with Python's tarfile, applies it to a second copy with `nodeinit apply`, kills the first VM and boots a
second node from the new image, whose init lists every path under /srv/nodesave; that listing must be exactly the
expected one. The capability is checked on the host (NFS carries no security.* xattrs to the second node).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time

from harness.nodesave import (AGENT_PORT, D, MARK, free_port, make_nodesave_image, node_report, nodeinit_binary,
                              scratch_images_dir)
from harness.qemu import GUEST_HOST_ADDR

SERVER = GUEST_HOST_ADDR
BOOT_BOUND = 180  # seconds of wall time for one boot under TCG on a busy 2-core machine

# What the second node must list under D, exactly (the check phase's `entry` lines).
EXPECTED_LISTING = sorted([
    f"d {D} 755 0:0",
    f"f {D}/capfile 755 0:0 capability holder|",
    f"f {D}/created.txt 644 0:0 created on the node|",
    f"f {D}/keep.txt 644 0:0 untouched|",
    f"l {D}/link created.txt",
    f"f {D}/mode.sh 750 0:0 #!/bin/sh|",
    f"f {D}/modify.txt 644 0:0 modified on the node|",
    f"d {D}/newdir 755 0:0",
    f"d {D}/opaque 755 0:0",
    f"f {D}/opaque/fresh.txt 644 0:0 fresh|",
])

# Layer entries the change phase must produce (tar names), plus the parents the capture writes for context.
EXPECTED_LAYER = {
    "srv/nodesave/created.txt", "srv/nodesave/modify.txt", "srv/nodesave/.wh.delete.txt",
    "srv/nodesave/opaque", "srv/nodesave/opaque/.wh..wh..opq", "srv/nodesave/opaque/fresh.txt",
    "srv/nodesave/mode.sh", "srv/nodesave/capfile", "srv/nodesave/newdir", "srv/nodesave/link",
}


def test_node_save_round_trip(boot, nfs_server, test_image):
    started = time.monotonic()
    work = tempfile.mkdtemp(prefix="nodesave-", dir=scratch_images_dir())
    try:
        image = os.path.join(work, "image")
        new_image = os.path.join(work, "new-image")
        layer = os.path.join(work, "layer.tar")
        summary_path = os.path.join(work, "summary.json")
        make_nodesave_image(test_image, image)
        port = free_port()

        # Node 1: boots the copy, changes files, waits with the agent serving.
        vm = boot(f"ip=dhcp root=nfs:{SERVER}:{image} rd.retry=60 nodesave.phase=change",
                  host_forwards=[(port, AGENT_PORT)])
        vm.wait_for(rf"^{MARK} changes-done", timeout=BOOT_BOUND)
        report = node_report(vm.output)
        agents = [line for line in report if line.startswith("agent ")]
        assert agents, f"no nodeinit agent process on the node; see {vm.log_path}"
        assert "exe=/run/nodeinit/nodeinit" in agents[0] and "root=/ " in agents[0] + " ", agents
        assert "node-save agent pid" in vm.output, f"the init did not log the agent start; see {vm.log_path}"
        assert any(line.startswith("setcap ") and "cap_net_raw" in line for line in report), report

        pull_start = time.monotonic()
        pull = subprocess.run(
            [nodeinit_binary(), "pull", f"127.0.0.1:{port}", "-o", layer, "--summary", summary_path, "--quiet"],
            capture_output=True, text=True, timeout=120)
        pull_seconds = time.monotonic() - pull_start
        assert pull.returncode == 0, f"pull failed: {pull.stderr}; node console: {vm.log_path}"
        print(f"nodesave: pulled {os.path.getsize(layer)} bytes in {pull_seconds:.2f} s: {pull.stderr.strip()}")
        vm.kill()

        with open(summary_path) as f:
            summary = json.load(f)
        print(f"nodesave: summary {json.dumps(summary, sort_keys=True)}")
        assert summary["whiteouts"]["count"] == 1, summary
        assert summary["opaqueDirectories"]["count"] == 1, summary
        assert summary["symlinks"]["count"] == 1, summary

        # An independent reader: Python's tarfile.
        with tarfile.open(layer) as archive:
            members = {m.name.rstrip("/"): m for m in archive.getmembers()}
        names = set(members)
        missing = EXPECTED_LAYER - names
        assert not missing, f"layer lacks {sorted(missing)}; has {sorted(names)}"
        unexpected = {n for n in names - EXPECTED_LAYER if n not in ("srv", "srv/nodesave")}
        assert not unexpected, f"layer has changes nobody made: {sorted(unexpected)}"
        assert "srv/nodesave/opaque/old1.txt" not in names
        # Copied-up entries keep the lower's owner as the node saw it over NFS: root, not an unmapped id.
        owners = {name: (m.uid, m.gid) for name, m in members.items() if (m.uid, m.gid) != (0, 0)}
        assert not owners, f"layer entries not owned by root: {owners}"
        assert members["srv/nodesave/mode.sh"].mode & 0o7777 == 0o750
        assert members["srv/nodesave/link"].issym() and members["srv/nodesave/link"].linkname == "created.txt"
        assert "SCHILY.xattr.security.capability" in members["srv/nodesave/capfile"].pax_headers, \
            members["srv/nodesave/capfile"].pax_headers

        # Apply to a copy of the image; the original stays as it was.
        subprocess.run(["cp", "-a", image, new_image], check=True)
        apply = subprocess.run([nodeinit_binary(), "apply", layer, new_image], capture_output=True, text=True,
                               timeout=120)
        assert apply.returncode == 0, apply.stderr
        print(f"nodesave: {apply.stderr.strip()}")
        with open(os.path.join(image, D.lstrip("/"), "modify.txt")) as f:
            assert f.read() == "original\n", "the original image changed"
        getcap = subprocess.run(["getcap", os.path.join(new_image, D.lstrip("/"), "capfile")],
                                capture_output=True, text=True, check=True).stdout
        assert "cap_net_raw" in getcap and "ep" in getcap, f"capability not applied: {getcap!r}"

        # Node 2: boots the new image and lists what it sees.
        vm2 = boot(f"ip=dhcp root=nfs:{SERVER}:{new_image} rd.retry=60 nodesave.phase=check")
        vm2.wait_exit(BOOT_BOUND)
        report2 = node_report(vm2.output)
        assert "done" in report2, f"the second node did not finish its report; see {vm2.log_path}"
        listing = sorted(line[len("entry "):] for line in report2 if line.startswith("entry "))
        assert listing == EXPECTED_LISTING, (
            f"second node sees {listing}\nexpected {EXPECTED_LISTING}\nsee {vm2.log_path}")
        elapsed = time.monotonic() - started
        print(f"nodesave: round trip (2 boots, pull, apply) in {elapsed:.0f} s")
        assert elapsed < 2 * BOOT_BOUND + 120
    finally:
        shutil.rmtree(work, ignore_errors=True)
