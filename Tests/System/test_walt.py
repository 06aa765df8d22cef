"""Issue 11: a WalT node booted by nodeinit, with WalT's own kernel command lines and WalT's boot chain.

The image is laid out as a WalT server exports one (harness/walt.py: /bin/walt-init written from WalT's documented
behaviour, /bin/walt-env, the image's /sbin/init). The command lines are exactly those of walt-images'
`start-generic-nfs3.ipxe` and `start-generic-nfs4.ipxe` (+ `start-generic-2.ipxe`), with the harness's server
address and paths. Checked on the node: nodeinit handed over the read-only NFS root and mounted no overlay of its own;
walt-init built WalT's state (RAM root on /run/walt/rootfs, the NFS root at its mnt/nfsroot, the overlay with the
upper fs_rw, /persist over NFSv3 read-write, walt_boot_mode recorded); the image's init runs as WalT expects. Then
node save after walt-init ran: through the agent (`nodeinit pull`) and through the node-side command `walt node save`
runs over ssh (`/run/nodeinit/walt-dump-diff-layer`, stdout written to /persist here): both layers carry the
created, the modified and the deleted file, and none of walt-init's own files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile

import pytest

from harness.nodesave import AGENT_PORT, free_port, nodeinit_binary, scratch_images_dir
from harness.qemu import GUEST_HOST_ADDR
from harness.walt import D, NODE_NAME, QEMU_MAC, ipxe_command_line, make_walt_image, node_report

SERVER = GUEST_HOST_ADDR
BOOT_BOUND = 240  # walt-init adds two pivots, a /persist mount and the dump to a boot under TCG

CHANGES = {"srv/walt-save/created.txt", "srv/walt-save/modify.txt", "srv/walt-save/.wh.delete.txt"}


def layer_names(path: str) -> set[str]:
    with tarfile.open(path) as archive:
        return {member.name.rstrip("/") for member in archive.getmembers()}


def mount_of(report: list[str], point: str) -> list[str] | None:
    """[fstype, dev, opts] of the last `mount <point> ...` line for a mount point (the one on top)."""
    found = None
    for line in report:
        words = line.split()
        if len(words) >= 5 and words[0] == "mount" and words[1] == point:
            found = words[2:]
    return found


@pytest.mark.parametrize("variant", ["nfs3", "nfs4"])
def test_walt_boot_and_node_save(boot, nfs_server, test_image, image_paths, variant):
    scratch = tempfile.mkdtemp(prefix=f"walt-{variant}-", dir=scratch_images_dir())
    persist_root = tempfile.mkdtemp(prefix=f"walt-{variant}-", dir=image_paths["rw"])
    try:
        nodes_dir = os.path.join(scratch, "nodes")
        persist_nodes = os.path.join(persist_root, "nodes")
        image = os.path.join(nodes_dir, QEMU_MAC, "fs")
        os.makedirs(os.path.dirname(image))
        make_walt_image(test_image, image, persist_nodes)
        persist = os.path.join(persist_nodes, NODE_NAME, "persist")
        os.makedirs(persist)
        port = free_port()

        append = ipxe_command_line(variant, SERVER, nodes_dir, ip="10.0.2.15", gateway=SERVER,
                                   netmask="255.255.255.0")
        # The plan nodeinit prints for this line: walt-init builds the overlay, nodeinit none.
        plan = subprocess.run([nodeinit_binary(), "plan", "--cmdline", append], capture_output=True, text=True)
        assert plan.returncode == 0, plan.stderr
        assert "mounts WalT's own overlay over it" in plan.stdout and "mount overlay on" not in plan.stdout, plan.stdout

        vm = boot(append, host_forwards=[(port, AGENT_PORT)])
        vm.wait_for(r"WALT-TEST: changes-done", timeout=BOOT_BOUND)
        report = node_report(vm.output)
        log = vm.log_path

        # nodeinit handed over the NFS root itself, read-only, and walt-init saw it as `/`.
        assert "nodeinit" in vm.output and "walt-init (start): root as handed over:" in vm.output, log
        handed = [l for l in vm.output.splitlines() if "root as handed over:" in l][-1]
        assert (" nfs " in handed or " nfs4 " in handed) and " ro," in handed, handed
        # WalT's state: the overlay on /, its upper in walt-init's RAM root, the raw NFS root beside it.
        root = mount_of(report, "/")
        assert root and root[0] == "overlay" and "upperdir=fs_rw" in root[2], (root, log)
        assert mount_of(report, "/run/walt/rootfs")[0] == "tmpfs", log
        lower = mount_of(report, "/run/walt/rootfs/mnt/nfsroot")
        assert lower, f"the NFS root is not at /run/walt/rootfs/mnt/nfsroot; see {log}"
        if variant == "nfs3":
            assert lower[0] == "nfs" and "vers=3" in lower[2] and "nolock" in lower[2], lower
        else:
            assert lower[0] == "nfs4" and "vers=4.2" in lower[2], lower
        # The nfsroot= options reach the mount. The kernel keeps attribute-cache times in jiffies in 32 bits, so
        # WalT's 157680000 s (5 years) wraps: at HZ=250 it shows as acregmin=3061177 (35 days), on WalT's own
        # initrd too.
        assert ",nocto," in lower[2] and "acregmin=3061177" in lower[2], lower
        # No overlay of ours anywhere: one overlay mount on the node, walt-init's.
        overlays = [l for l in report if l.startswith("mount ") and l.split()[2] == "overlay"]
        assert len(overlays) == 1, overlays
        persist_mount = mount_of(report, "/persist")
        assert persist_mount and persist_mount[0] == "nfs" and persist_mount[2].startswith("rw,"), persist_mount
        assert "vers=3" in persist_mount[2], persist_mount
        assert "export walt_boot_mode='network'" in report, report
        assert f"hostname {NODE_NAME}" in report, report
        assert "lower-visible yes" in report, report
        agents = [l for l in report if l.startswith("agent ")]
        assert agents and all(l.endswith("root=/") for l in agents), (agents, log)
        assert "dump-link nodeinit" in report, report
        dump = [l for l in report if l.startswith("dump rc=")]
        assert dump and dump[0].startswith("dump rc=0"), (dump, log)

        # Node save 1: the agent.
        layer = os.path.join(scratch, "pulled.tar")
        pull = subprocess.run([nodeinit_binary(), "pull", f"127.0.0.1:{port}", "-o", layer, "--quiet"],
                              capture_output=True, text=True, timeout=120)
        assert pull.returncode == 0, f"pull failed: {pull.stderr}; see {log}"
        vm.kill()
        # Node save 2: what `walt node save` runs over ssh, its stdout written to /persist by the node.
        dumped = os.path.join(persist, "ar.tar")
        assert os.path.getsize(dumped) > 0
        for name, path in (("pulled", layer), ("walt-dump-diff-layer", dumped)):
            names = layer_names(path)
            assert CHANGES <= names, f"{name} layer lacks {sorted(CHANGES - names)}: {sorted(names)}"
            leaked = {n for n in names if n.startswith(("bin/walt-env", "bin/_walt_internal_", "persist/"))}
            assert not leaked, f"{name} layer carries walt-init's own files: {sorted(leaked)}"
            assert not any(n.startswith(("run/", "proc/", "dev/")) for n in names), sorted(names)
        with open(os.path.join(persist, "node-file.txt")) as f:
            assert f.read() == "persistent\n"

        # Applied to a copy of the image, the dump gives the node's view: WalT's own save cannot delete.
        saved = os.path.join(scratch, "saved")
        subprocess.run(["cp", "-a", image, saved], check=True)
        apply = subprocess.run([nodeinit_binary(), "apply", dumped, saved], capture_output=True, text=True)
        assert apply.returncode == 0, apply.stderr
        base = os.path.join(saved, D.lstrip("/"))
        assert sorted(os.listdir(base)) == ["created.txt", "keep.txt", "modify.txt"], os.listdir(base)
        with open(os.path.join(base, "modify.txt")) as f:
            assert f.read() == "modified on the node\n"
        with open(os.path.join(saved, "bin/walt-env")) as f:
            assert "walt_boot_mode" not in f.read(), "walt-init's boot record was saved into the image"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(persist_root, ignore_errors=True)
