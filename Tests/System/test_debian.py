"""Issue 13: a real Debian 12 systemd image, end to end, beside the busybox ones.

The image (scripts/build-debian-image.sh: debootstrap minbase + systemd, udev, iproute2, kmod, openssh-server) is
exported read-only by the loopback ganesha and driven on the serial console (harness/debian.py). Each boot must reach
multi-user.target with no failed unit. Scenarios:
- a persistent overlay on an ext4 disk across `systemctl reboot` then `systemctl poweroff`: after each, on the host,
  the file system is clean (e2fsck -fn, no journal recovery needed) and every file written before it is there;
- node save: files created, modified and deleted on a node, pulled from its agent, applied to a copy of the image,
  and a second node booted from the copy sees them (the deleted file gone);
- statelite: /etc/ssh/ `persistent` on the STATEMNT share, the node's ssh host keys and a file written there kept
  across two boots (`full`: `make vm-test-full` only; CI's budget keeps the two above).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

import pytest

from harness.disks import assert_clean
from harness.debian import DEBIAN_APPEND, MULTI_USER_BOUND, DebianConsole
from harness.nodesave import AGENT_PORT, free_port, nodeinit_binary, scratch_images_dir
from harness.qemu import GUEST_HOST_ADDR, VM

SERVER = GUEST_HOST_ADDR
SHUTDOWN_BOUND = 180  # seconds from `systemctl poweroff` to QEMU's exit


def running(vm: VM) -> DebianConsole:
    """Logs in and asserts multi-user.target with no failed unit."""
    console = DebianConsole(vm)
    console.login()
    state, failed = console.multi_user()
    assert failed == "", f"failed units:\n{failed}\nsee {vm.log_path}"
    assert state == "running", f"system state {state!r}; see {vm.log_path}"
    return console


def shut_down(console: DebianConsole, verb: str) -> str:
    """`systemctl VERB` and waits for QEMU to end (-no-reboot: a reboot ends it too); the console from there."""
    vm = console.vm
    start = vm.position()
    vm.send(f"systemctl {verb}\n")
    vm.wait_exit(SHUTDOWN_BOUND)
    return vm.output_bytes(start, vm.position()).decode(errors="replace")


def debugfs_cat(disk: str, path: str) -> str | None:
    result = subprocess.run(["debugfs", "-R", f"cat {path}", disk], capture_output=True, text=True)
    return None if "File not found" in result.stderr else result.stdout


def make_disk(path: str, label: str, megabytes: int = 256) -> None:
    with open(path, "wb") as f:
        f.truncate(megabytes << 20)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-L", label, path], check=True)


def test_debian_persistent_overlay_reboot_then_poweroff_leave_the_disk_clean(boot, nfs_server, debian_image,
                                                                             tmp_path):
    disk = str(tmp_path / "persist.img")
    make_disk(disk, "persist")
    drive = ["-drive", f"file={disk},if=virtio,format=raw"]
    append = (f"ip=dhcp root=nfs:{SERVER}:{debian_image} rd.overlay=LABEL=persist:/ovl rd.retry=60 rd.timeout=60 "
              f"{DEBIAN_APPEND}")

    vm = boot(append, extra_args=drive, dhcp_hostname="deb-persist")
    console = running(vm)
    _, root = console.run("findmnt -no FSTYPE,OPTIONS /")
    assert root.startswith("overlay") and "upperdir=/run/nodeinit/overlay-device/ovl" in root, root
    assert console.run("test -x /run/initramfs/shutdown")[0] == 0
    # Written without sync: the shutdown has to bring it to the disk.
    console.run("echo before-reboot > /root/first.txt; mkdir -p /var/lib/site && echo 1 > /var/lib/site/count")
    tail = shut_down(console, "reboot")
    assert "nodeinit shutdown: back in the initramfs from systemd" in tail, f"no hand-over; see {vm.log_path}"
    assert "ext4 on /dev/vda: released, clean" in tail or "ext4 on /dev/vda: remounted read-only, clean" in tail, \
        f"the device was not reported clean; see {vm.log_path}"
    assert "reboot now" in tail, vm.log_path
    assert_clean(disk)
    assert debugfs_cat(disk, "/ovl/root/first.txt") == "before-reboot\n"

    vm2 = boot(append, extra_args=drive, dhcp_hostname="deb-persist")
    console2 = running(vm2)
    assert console2.run("cat /root/first.txt")[1] == "before-reboot"
    console2.run("echo before-poweroff > /root/second.txt; echo 2 > /var/lib/site/count; rm /root/first.txt "
                 "/etc/issue.net")
    tail2 = shut_down(console2, "poweroff")
    assert "poweroff now" in tail2 and "reboot: Power down" in tail2, f"no clean power-off; see {vm2.log_path}"
    assert_clean(disk)
    assert debugfs_cat(disk, "/ovl/root/second.txt") == "before-poweroff\n"
    assert debugfs_cat(disk, "/ovl/var/lib/site/count") == "2\n"
    # A file of this run's upper is simply gone; a file of the image is hidden by a whiteout (a character
    # device 0/0) in the upper.
    assert debugfs_cat(disk, "/ovl/root/first.txt") is None
    listing = subprocess.run(["debugfs", "-R", "stat /ovl/etc/issue.net", disk], capture_output=True,
                             text=True).stdout
    assert "Type: character special" in listing, listing


def test_debian_node_save_round_trip(boot, nfs_server, debian_image):
    work = tempfile.mkdtemp(prefix="debian-save-", dir=scratch_images_dir())
    try:
        image = os.path.join(work, "image")
        saved = os.path.join(work, "saved")
        layer = os.path.join(work, "layer.tar")
        subprocess.run(["cp", "-a", debian_image, image], check=True)
        port = free_port()
        vm = boot(f"ip=dhcp root=nfs:{SERVER}:{image} rd.retry=60 {DEBIAN_APPEND}",
                  host_forwards=[(port, AGENT_PORT)], dhcp_hostname="deb-save")
        console = running(vm)
        console.run("echo site motd > /etc/motd; rm /etc/issue.net; mkdir -p /opt/site/bin; "
                    "printf '#!/bin/sh\\necho hello\\n' > /opt/site/bin/hello; chmod 0750 /opt/site/bin/hello; "
                    "useradd -m -u 1500 alice && echo alice-file > /home/alice/notes && chown alice /home/alice/notes")
        pull = subprocess.run([nodeinit_binary(), "pull", f"127.0.0.1:{port}", "-o", layer, "--quiet"],
                              capture_output=True, text=True, timeout=300)
        assert pull.returncode == 0, f"pull failed: {pull.stderr}; see {vm.log_path}"
        vm.kill()
        subprocess.run(["cp", "-a", image, saved], check=True)
        apply = subprocess.run([nodeinit_binary(), "apply", layer, saved], capture_output=True, text=True,
                               timeout=300)
        assert apply.returncode == 0, apply.stderr
        assert not os.path.exists(os.path.join(saved, "etc/issue.net"))
        assert os.path.exists(os.path.join(image, "etc/issue.net")), "the base image changed"

        vm2 = boot(f"ip=dhcp root=nfs:{SERVER}:{saved} rd.retry=60 {DEBIAN_APPEND}", dhcp_hostname="deb-saved")
        console2 = running(vm2)
        assert console2.run("cat /etc/motd")[1] == "site motd"
        assert console2.run("test -e /etc/issue.net", check=False)[0] == 1, "the deleted file came back"
        assert console2.run("/opt/site/bin/hello")[1] == "hello"
        assert console2.run("stat -c %a /opt/site/bin/hello")[1] == "750"
        assert console2.run("id -u alice")[1] == "1500"
        assert console2.run("stat -c %U:%s /home/alice/notes")[1] == "alice:11"
    finally:
        shutil.rmtree(work, ignore_errors=True)


LITEFILE = """#image,file,options,comments,disable
"ALL","/etc/ssh/","persistent",,
"ALL","/var/log/","tmpfs",,
"""


@pytest.mark.full
def test_debian_statelite_keeps_ssh_host_keys_on_the_statemnt(boot, nfs_server, debian_image, image_paths):
    base = os.path.join(image_paths["rw"], "debian-statelite")
    shutil.rmtree(base, ignore_errors=True)
    state = os.path.join(base, "state")
    os.makedirs(state)
    with open(os.path.join(base, "litefile.csv"), "w") as f:
        f.write(LITEFILE)
    append = (f"ip=dhcp root=nfs:{SERVER}:{debian_image} STATEMNT={SERVER}:{state} NODE=debsl1 "
              f"nodeinit.litefile=nfs://{SERVER}{base}/litefile.csv rd.retry=60 {DEBIAN_APPEND}")
    fingerprints = []
    for number in (1, 2):
        vm = boot(append)
        console = running(vm)
        assert console.run("hostname")[1] == "debsl1"
        assert console.run("systemctl is-active ssh")[1] == "active", vm.log_path
        _, mounts = console.run("findmnt -no SOURCE,FSTYPE /etc/ssh")
        assert f"{SERVER}:{state}" in mounts or "nfs" in mounts, mounts
        fingerprints.append(console.run("ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub")[1])
        if number == 1:
            console.run("echo 'MaxAuthTries 4' > /etc/ssh/sshd_config.d/site.conf")
        else:
            # sshd started with the setting written on the first boot.
            assert console.run("sshd -T | grep -i '^maxauthtries'")[1] == "maxauthtries 4"
        shut_down(console, "poweroff")
    assert fingerprints[0] == fingerprints[1], fingerprints
    kept = os.path.join(state, "debsl1", "etc/ssh/sshd_config.d/site.conf")
    assert os.path.exists(kept), f"not on the STATEMNT share: {kept}"
    shutil.rmtree(base, ignore_errors=True)
