"""Issue 4 system tests: xCAT statelite and the persistent overlay, booted in QEMU with nodeinit.

The statelite image, its two litetree sources, the STATEMNT directory and the litetree table all live below the
harness's read-write export (build/images/rw/statelite), so the session's one ganesha serves them. The image's
/sbin/init prints `NODEINIT-TEST: sl ...` lines (file contents, symlinks, writability, counters) and powers off.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time

import pytest

from harness import images
from harness.disks import assert_clean
from harness.qemu import GUEST_HOST_ADDR, VM
from harness.report import parse_report

SERVER = GUEST_HOST_ADDR
BOUND = 300  # seconds per boot under TCG on a busy machine

# The start of every statelite image's /sbin/init: its mounts, and `show FILE` for a file's text on one line.
INIT_HEAD = r"""#!/bin/sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
M="__MARK__"
echo "$M init-started pid=$$ argv0=$0"
[ -d /proc/self ] || mount -t proc proc /proc
while read -r dev mnt fstype opts rest; do
    echo "$M mount $mnt $fstype $dev $opts"
done < /proc/mounts
show() { echo "$M sl file $1 $(cat "$1" 2>/dev/null | tr '\n' '|')"; }
"""

STATELITE_INIT = INIT_HEAD + r"""for f in /etc/motd /etc/hosts /etc/fstab /etc/issue /etc/profile /etc/ssh/ssh_config /etc/ssh/.keep \
         /etc/ssh/tree2-only /etc/ssh/sshd_config /etc/ssh/moduli /var/lib/state/db /root/.bashrc /var/log/messages; do
    show "$f"
done
for f in /etc/issue /etc/fstab /etc/profile /root/.bashrc /.statelite/tmpfs/etc/issue /etc/evil; do
    echo "$M sl link $f $(readlink "$f")"
done
for f in /etc/motd /etc/hosts /etc/ssh/ssh_config /etc/ssh/moduli /var/log/messages; do
    if ( echo probe >> "$f" ) 2>/dev/null; then echo "$M sl writable $f yes"; else echo "$M sl writable $f no"; fi
done
n=$(cat /var/lib/state/boots 2>/dev/null || echo 0); n=$((n+1)); echo "$n" > /var/lib/state/boots
echo "$M sl boots $n"
show /var/cache/local/seed
l=$(cat /var/cache/local/boots 2>/dev/null || echo 0); l=$((l+1)); echo "$l" > /var/cache/local/boots
echo "$M sl local-boots $l"
echo "edited on boot $n" > /etc/ssh/sshd_config
o=$(cat /overlay-boots 2>/dev/null || echo 0); o=$((o+1)); echo "$o" > /overlay-boots
echo "$M sl overlay-boots $o"
[ -e /run/nodeinit/evil-written ] && echo "$M sl evil-written yes" || echo "$M sl evil-written no"
grep -E "REFUSED|WARNING" /.statelite/statelite.log 2>/dev/null | sed "s|^|$M sl log |"
echo "$M sl log-lines $(wc -l < /.statelite/statelite.log 2>/dev/null)"
if grep -q "sl.live" /proc/cmdline; then
    echo "$M sl waiting"
    read -r -t 120 go < /dev/console
    # The host has edited the ro file's source by now; the client's attribute cache (actimeo=1) may hide it for a
    # moment: poll, bounded, once a second, and say after how many polls it showed.
    i=0
    while [ $i -lt 90 ] && ! grep -q LIVE /etc/motd; do sleep 1; i=$((i+1)); done
    echo "$M sl live-polls $i"
    show /etc/motd
fi
echo "$M done"
sync
# The image's own shutdown hands over to nodeinit's (it stops the agent, unmounts, leaves the overlay disk clean).
[ -x /run/nodeinit/nodeinit ] && /run/nodeinit/nodeinit shutdown poweroff
poweroff -f
"""

LITEFILE = """#image,file,options,comments,disable
"ALL","/etc/motd","ro",,
"ALL","/etc/issue","link,ro",,
"ALL","/etc/hosts","con",,
"ALL","/etc/profile","link,con",,
"ALL","/etc/fstab",,,
"ALL","/etc/ssh/","tmpfs",,
"ALL","/etc/ssh/sshd_config","persistent",,
"ALL","/etc/ssh/moduli","ro",,
"ALL","/var/lib/state/","bind,persistent",,
"ALL","/root/.bashrc","link,persistent",,
"ALL","/var/log/","bind",,
"ALL","/etc/evil","tmpfs",,
"ALL","/var/cache/local/","localdisk",,
"""


def write(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


@pytest.fixture(scope="module")
def statelite_dirs(image_paths):
    base = os.path.join(image_paths["rw"], "statelite")
    shutil.rmtree(base, ignore_errors=True)
    image = os.path.join(base, "image")
    images.build_busybox_root(image, STATELITE_INIT)
    for name, text in {
        "etc/motd": "image motd\n", "etc/issue": "image issue\n", "etc/hosts": "127.0.0.1 image\n",
        "etc/profile": "image profile\n", "etc/fstab": "image fstab\n", "etc/ssh/ssh_config": "image ssh_config\n",
        "etc/ssh/sshd_config": "image sshd_config\n", "etc/ssh/moduli": "image moduli\n",
        "var/lib/state/db": "image db\n", "root/.bashrc": "image bashrc\n", "var/log/messages": "image log\n",
        "var/cache/local/seed": "image seed\n", "etc/nodeinit/litefile.csv": LITEFILE,
    }.items():
        write(os.path.join(image, name), text)
    # Hostile: a litefile path that is a symlink out of the root (into the initramfs's /run).
    os.symlink("../../../../../run/nodeinit/evil-written", os.path.join(image, "etc/evil"))
    tree1 = os.path.join(base, "tree1")
    tree2 = os.path.join(base, "tree2")
    for name, text in {
        "etc/motd": "tree1 motd\n", "etc/issue": "tree1 issue\n", "etc/hosts": "10.0.0.1 tree1\n",
        "etc/ssh/.keep": "tree1 dotfile\n", "etc/ssh/ssh_config": "tree1 ssh_config\n", "etc/ssh/moduli": "tree1 moduli\n",
    }.items():
        write(os.path.join(tree1, name), text)
    for name, text in {
        "etc/hosts": "10.0.0.2 tree2\n", "etc/fstab": "tree2 fstab\n", "etc/ssh/tree2-only": "tree2 only\n",
        "etc/ssh/sshd_config": "tree2 sshd_config\n",
    }.items():
        write(os.path.join(tree2, name), text)
    state = os.path.join(base, "state")
    os.makedirs(state, exist_ok=True)
    # mntopts honoured: NFSv4.2 with a 1 s attribute cache, so a server-side edit shows within the test's wait.
    write(os.path.join(base, "litetree.csv"),
          "#priority,image,directory,mntopts,comments,disable\n"
          f'"1","ALL","{SERVER}:{tree1}","vers=4.2,actimeo=1",,\n'
          f'"2","ALL","{SERVER}:{tree2}","vers=4.2",,\n')
    return {"base": base, "image": image, "tree1": tree1, "tree2": tree2, "state": state}


def sl_lines(vm: VM) -> dict[str, list[str]]:
    report = parse_report(vm.output)
    assert report is not None, f"the image's init never ran; see {vm.log_path}"
    assert report.done, f"the image's init did not finish; see {vm.log_path}"
    found: dict[str, list[str]] = {}
    for line in report.lines:
        word, _, rest = line.partition(" ")
        if word == "sl":
            key, _, value = rest.partition(" ")
            found.setdefault(key, []).append(value)
    return found


def value(lines: dict[str, list[str]], key: str, subject: str) -> str | None:
    for entry in lines.get(key, []):
        name, _, rest = entry.partition(" ")
        if name == subject:
            return rest
    return None


def statelite_append(dirs: dict, extra: str = "") -> str:
    return (f"ip=dhcp root=nfs:{SERVER}:{dirs['image']} STATEMNT={SERVER}:{dirs['state']} NODE=sl1 "
            f"nodeinit.litetree=nfs://{SERVER}{dirs['base']}/litetree.csv rd.retry=60 {extra}")


def rewrite_in_place(path: str, text: str) -> None:
    """Replaces a file's content keeping its inode: a node's `ro` bind mount holds that very file."""
    inode = os.stat(path).st_ino
    with open(path, "r+") as f:
        f.truncate(0)
        f.write(text)
    assert os.stat(path).st_ino == inode, f"{path} was replaced, not edited in place"


def test_statelite_every_option_and_persistence(boot, nfs_server, statelite_dirs):
    """Every litefile option on a booted node, then the persistent files kept across a second boot.

    The first boot also proves an `ro` entry is live: after the node has read /etc/motd (bound read-only from tree1
    over NFS), the source file is edited in place on the server, behind ganesha's back, and the node must read the
    new text. This needs the harness's `Attr_Expiration_Time = 0` exports (see harness/nfs.py).
    """
    dirs = statelite_dirs
    motd_source = os.path.join(dirs["tree1"], "etc/motd")
    vm = boot(statelite_append(dirs, "sl.live"))
    try:
        vm.wait_for(r"NODEINIT-TEST: sl waiting", BOUND)
        rewrite_in_place(motd_source, "tree1 motd LIVE edit\n")
        edited_at = time.monotonic()
        vm.send("go\n")
        vm.wait_for(r"NODEINIT-TEST: sl live-polls \d+", 120)
        seen_after = time.monotonic() - edited_at
        vm.wait_exit(BOUND)
    finally:
        rewrite_in_place(motd_source, "tree1 motd\n")
    lines = sl_lines(vm)
    report = parse_report(vm.output)
    motd_reads = [rest for name, _, rest in (entry.partition(" ") for entry in lines.get("file", []))
                  if name == "/etc/motd"]
    assert motd_reads == ["tree1 motd|", "tree1 motd LIVE edit|"], \
        f"the server-side edit of an ro file did not reach the node ({lines.get('live-polls')} polls); " \
        f"see {vm.log_path}"
    print(f"ro edit seen by the node {seen_after:.1f} s after the server-side write "
          f"({lines['live-polls'][0]} one-second polls)")
    # actimeo=1 and close-to-open revalidation: the edit shows at once. ganesha's default 60 s attribute cache
    # delayed it by 59 polls (measured), which this bound catches.
    assert int(lines["live-polls"][0]) <= 10, \
        f"the ro edit took {seen_after:.0f} s to reach the node; see {vm.log_path}"
    motd = report.mount_at("/etc/motd")
    assert motd is not None and "ro" in motd.options, motd
    assert value(lines, "writable", "/etc/motd") == "no"
    assert value(lines, "file", "/etc/hosts") == "10.0.0.1 tree1|10.0.0.2 tree2|"
    assert value(lines, "writable", "/etc/hosts") == "yes"
    assert value(lines, "link", "/etc/issue") == "/.statelite/tmpfs/etc/issue"
    assert value(lines, "link", "/.statelite/tmpfs/etc/issue").startswith(f"/.statelite/mnt/{SERVER}")
    assert value(lines, "file", "/etc/fstab") == "tree2 fstab|"
    assert value(lines, "file", "/etc/profile") == "image profile|"
    assert value(lines, "file", "/etc/ssh/.keep") == "tree1 dotfile|"
    assert value(lines, "file", "/etc/ssh/tree2-only") == "", "directory merged from two trees"
    assert value(lines, "file", "/etc/ssh/sshd_config") == "tree2 sshd_config|"
    assert value(lines, "file", "/etc/ssh/moduli") == "tree1 moduli|"
    assert value(lines, "writable", "/etc/ssh/moduli") == "no"
    assert value(lines, "writable", "/etc/ssh/ssh_config") == "yes"
    assert value(lines, "file", "/root/.bashrc") == "image bashrc|"
    assert value(lines, "file", "/var/log/messages") == "image log|"
    assert lines["boots"] == ["1"]
    assert lines["evil-written"] == ["no"]
    assert any("REFUSED /etc/evil" in entry for entry in lines.get("log", [])), lines.get("log")
    persistent = report.mount_at("/.statelite/persistent")
    assert persistent is not None and persistent.fstype in ("nfs", "nfs4"), persistent
    trees = [m for m in report.mounts if m.point.startswith("/.statelite/mnt/")]
    assert len(trees) == 2 and all("ro" in m.options for m in trees), trees
    assert any("actimeo=1" in ",".join(m.options) or "acregmin=1" in ",".join(m.options) for m in trees), trees
    assert os.path.isdir(os.path.join(dirs["state"], "sl1")), "the node's persistent directory was not created"
    # localdisk without nodeinit.localdisk=: kept in RAM, said in the plan and in statelite.log.
    assert value(lines, "file", "/var/cache/local/seed") == "image seed|"
    assert "localdisk entries but no local disk (nodeinit.localdisk=<devspec>" in vm.output, vm.log_path
    assert any("WARNING /var/cache/local (localdisk): no local disk mounted on /.sllocal/localmnt" in entry
               for entry in lines.get("log", [])), lines.get("log")
    assert report.mount_at("/.sllocal/localmnt") is None

    # Second boot on the same STATEMNT directory: the persistent files are kept.
    vm2 = boot(statelite_append(dirs))
    vm2.wait_exit(BOUND)
    lines2 = sl_lines(vm2)
    assert lines2["boots"] == ["2"], f"persistent counter not kept; see {vm2.log_path}"
    assert value(lines2, "file", "/etc/ssh/sshd_config") == "edited on boot 1|"


def make_disk(path: str, label: str, megabytes: int = 64, content: str | None = None) -> None:
    """An ext4 file system in a sparse file; `content` (a directory) is copied in by mkfs itself (-d)."""
    with open(path, "wb") as f:
        f.truncate(megabytes << 20)
    command = ["mkfs.ext4", "-q", "-F"] + (["-L", label] if label else []) + (["-d", content] if content else [])
    subprocess.run(command + [path], check=True)


def ext4_read(image: str, path: str, scratch) -> str | None:
    """The text of `path` inside the ext4 file system `image` (None when absent), read on the host without a mount.

    The guest powers off without unmounting, so recent changes may sit in the journal: debugfs reads the file
    system as it is on disk, so a copy gets its journal replayed by e2fsck first (the image itself is not touched).
    """
    copy = str(scratch / ("fsck-" + os.path.basename(image)))
    shutil.copyfile(image, copy)
    try:
        check = subprocess.run(["e2fsck", "-fy", copy], capture_output=True, text=True)
        assert check.returncode < 4, f"e2fsck {image}: rc {check.returncode}: {check.stdout} {check.stderr}"
        result = subprocess.run(["debugfs", "-R", f"cat {path}", copy], capture_output=True, text=True)
        if "File not found" in result.stderr:
            return None
        assert result.returncode == 0, f"debugfs cat {path} in {image}: {result.stderr}"
        return result.stdout
    finally:
        os.unlink(copy)


def ext4_extract(image: str, path: str, out: str, scratch) -> None:
    """Copies the file `path` out of the ext4 file system `image` (journal replayed on a copy, as ext4_read)."""
    copy = str(scratch / ("fsck-" + os.path.basename(image)))
    shutil.copyfile(image, copy)
    try:
        check = subprocess.run(["e2fsck", "-fy", copy], capture_output=True, text=True)
        assert check.returncode < 4, f"e2fsck {image}: rc {check.returncode}: {check.stdout} {check.stderr}"
        subprocess.run(["debugfs", "-R", f"dump {path} {out}", copy], check=True, capture_output=True)
        assert os.path.getsize(out) > 0, f"debugfs dump {path} from {image} wrote nothing"
    finally:
        os.unlink(copy)


def failed_boot(vm: VM, bound: float) -> str:
    """Waits for a boot that must stop before the image's init: the console, asserted to hold one failure report."""
    vm.wait_exit(bound)
    output = vm.output
    assert parse_report(output) is None, f"the image's init ran although the boot had to stop; see {vm.log_path}"
    assert "Kernel panic" not in output, f"kernel panic (did PID 1 exit?); see {vm.log_path}"
    assert "BOOT FAILED: mounting the persistent overlay" in output, f"no failure report; see {vm.log_path}"
    return output


def test_statelite_localdisk_on_a_virtio_disk_persists(boot, nfs_server, statelite_dirs, tmp_path):
    """nodeinit.localdisk=LABEL=sllocal: the disk on /.sllocal/localmnt, the localdisk entry bound from it, kept
    across a second boot; /.sllocal/log a tmpfs."""
    dirs = statelite_dirs
    disk = str(tmp_path / "local.img")
    make_disk(disk, "sllocal")
    drive = ["-drive", f"file={disk},if=virtio,format=raw"]
    append = statelite_append(dirs, "NODE=sllocal nodeinit.localdisk=LABEL=sllocal rd.timeout=30")
    for number in (1, 2):
        vm = boot(append, extra_args=drive)
        vm.wait_exit(BOUND)
        lines = sl_lines(vm)
        report = parse_report(vm.output)
        local = report.mount_at("/.sllocal/localmnt")
        assert local is not None and (local.fstype, local.source) == ("ext4", "/dev/vda"), (local, vm.log_path)
        assert "rw" in local.options, local
        entry = report.mount_at("/var/cache/local")
        assert entry is not None and (entry.fstype, entry.source) == ("ext4", "/dev/vda"), (entry, vm.log_path)
        log_mount = report.mount_at("/.sllocal/log")
        assert log_mount is not None and log_mount.fstype == "tmpfs", log_mount
        assert "local disk LABEL=sllocal is /dev/vda (ext4), mounted on /.sllocal/localmnt" in vm.output, vm.log_path
        assert not any("localdisk" in entry for entry in lines.get("log", [])), lines.get("log")
        assert value(lines, "file", "/var/cache/local/seed") == "image seed|"
        assert lines["local-boots"] == [str(number)], f"localdisk copy not kept; see {vm.log_path}"
    # What the node wrote is on the disk itself.
    written = subprocess.run(["debugfs", "-R", "cat /var/cache/local/boots", disk], capture_output=True, text=True)
    assert written.stdout == "2\n", written


def test_persistent_overlay_reboot_reset_readonly_mismatch_absent(boot, nfs_server, statelite_dirs, tmp_path):
    dirs = statelite_dirs
    disk = str(tmp_path / "overlay.img")
    make_disk(disk, "slpersist")
    drive = ["-drive", f"file={disk},if=virtio,format=raw"]
    base = f"ip=dhcp root=nfs:{SERVER}:{dirs['image']} rd.retry=60 rd.overlay=LABEL=slpersist:/ovl rd.timeout=30"

    def overlay_boot(extra: str = "", with_disk: bool = True) -> tuple[VM, dict]:
        vm = boot(f"{base} {extra}", extra_args=drive if with_disk else [])
        vm.wait_exit(BOUND)
        return vm, sl_lines(vm)

    vm, lines = overlay_boot()
    assert lines["overlay-boots"] == ["1"], vm.log_path
    assert "first use" in vm.output
    vm, lines = overlay_boot()
    assert lines["overlay-boots"] == ["2"], f"overlay did not persist; see {vm.log_path}"
    # `nodeinit shutdown poweroff` from the image's init: the disk under the upper ends clean.
    assert "nodeinit shutdown: ext4 on /dev/vda: remounted read-only, clean" in vm.output, vm.log_path
    assert_clean(disk)
    vm, lines = overlay_boot("rd.overlay.readonly")
    assert lines["overlay-boots"] == ["3"]
    vm, lines = overlay_boot()
    assert lines["overlay-boots"] == ["3"], "readonly boot wrote into the persistent upper"
    vm, lines = overlay_boot("rd.overlay.reset")
    assert lines["overlay-boots"] == ["1"]
    saved_identity = ext4_read(disk, "/ovl.nodeinit-identity", tmp_path)
    assert saved_identity is not None and "stamp=" in saved_identity, saved_identity
    assert ext4_read(disk, "/ovl/overlay-boots", tmp_path) == "1\n"
    # The image changes: default policy boots on a tmpfs and leaves the upper untouched.
    write(os.path.join(dirs["image"], "etc/nodeinit/image-id"), "image v2\n")
    try:
        vm, lines = overlay_boot()
        assert lines["overlay-boots"] == ["1"] and "another image" in vm.output, vm.log_path
        # mismatch=fail: the boot stops with the failure report and the default emergency action (no shell,
        # reboot after the countdown; QEMU runs with -no-reboot, so it ends there).
        vm = boot(f"{base} nodeinit.overlay.mismatch=fail", extra_args=drive)
        output = failed_boot(vm, BOUND)
        assert "written over another image" in output and "nodeinit.overlay.mismatch=fail" in output, vm.log_path
        assert "reboot: Restarting system" in output, f"the node did not reboot; see {vm.log_path}"
        # Neither the tmpfs boot nor the failed one touched the saved upper or its identity.
        assert ext4_read(disk, "/ovl/overlay-boots", tmp_path) == "1\n"
        assert ext4_read(disk, "/ovl.nodeinit-identity", tmp_path) == saved_identity
        vm, lines = overlay_boot("nodeinit.overlay.mismatch=reset")
        assert lines["overlay-boots"] == ["1"] and "emptied it" in vm.output, vm.log_path
    finally:
        os.unlink(os.path.join(dirs["image"], "etc/nodeinit/image-id"))
    # No disk: tmpfs with a loud warning.
    vm, lines = overlay_boot("rd.timeout=3", with_disk=False)
    assert lines["overlay-boots"] == ["1"]
    assert "CHANGES WILL BE LOST AT REBOOT" in vm.output, vm.log_path
    # The node-save agent serves the tmpfs upper the boot fell back to, not the planned one on the disk.
    assert "--upper /run/nodeinit/overlay/upper " in vm.output, vm.log_path
    # No disk with nodeinit.overlay.required: the failure action (poweroff asked for here) instead of a tmpfs.
    vm = boot(f"{base} rd.timeout=3 nodeinit.overlay.required rd.emergency=poweroff", extra_args=[])
    output = failed_boot(vm, BOUND)
    assert re.search(r"persistent overlay device LABEL=slpersist unavailable \(nodeinit.overlay.required\): "
                     r"no block device matches LABEL=slpersist after \d+ s", output), vm.log_path
    assert "CHANGES WILL BE LOST" not in output, f"fell back to a tmpfs although required; see {vm.log_path}"
    assert "reboot: Power down" in output, f"the node did not power off; see {vm.log_path}"


def test_persistent_overlay_image_file_loop_mounted(boot, nfs_server, statelite_dirs, tmp_path):
    """`rd.live.overlay=<devspec>:<file>`: the upper lives inside an ext4 image file on the device, loop-mounted."""
    dirs = statelite_dirs
    content = tmp_path / "disk-content"
    content.mkdir()
    inner = str(content / "persist.img")
    make_disk(inner, "", megabytes=24)
    disk = str(tmp_path / "overlay-file.img")
    make_disk(disk, "slpersist", content=str(content))
    drive = ["-drive", f"file={disk},if=virtio,format=raw"]
    append = f"ip=dhcp root=nfs:{SERVER}:{dirs['image']} rd.retry=60 rd.live.overlay=LABEL=slpersist:/persist.img rd.timeout=30"

    vm = boot(append, extra_args=drive)
    vm.wait_exit(BOUND)
    lines = sl_lines(vm)
    assert lines["overlay-boots"] == ["1"], vm.log_path
    report = parse_report(vm.output)
    root = report.mount_at("/")
    assert root is not None and root.fstype == "overlay", root
    image_mount = "/run/nodeinit/overlay-device-image"
    assert f"upperdir={image_mount}/overlayfs" in root.options, root
    assert f"workdir={image_mount}/ovlwork" in root.options, root
    loop = report.mount_at(image_mount)
    assert loop is not None and re.fullmatch(r"/dev/loop\d+", loop.source) and loop.fstype == "ext4", loop
    device = report.mount_at("/run/nodeinit/overlay-device")
    assert device is not None and device.source == "/dev/vda" and device.fstype == "ext4", device
    # The node-save agent serves that upper (not the image file's path).
    assert f"--upper {image_mount}/overlayfs " in vm.output, vm.log_path

    vm = boot(append, extra_args=drive)
    vm.wait_exit(BOUND)
    lines = sl_lines(vm)
    assert lines["overlay-boots"] == ["2"], f"the image file's upper did not persist; see {vm.log_path}"
    # On the host: the counter is inside the image file, and nothing of the upper landed beside it.
    extracted = str(tmp_path / "persist-out.img")
    ext4_extract(disk, "/persist.img", extracted, tmp_path)
    assert ext4_read(extracted, "/overlayfs/overlay-boots", tmp_path) == "2\n"
    assert "stamp=" in (ext4_read(extracted, "/overlayfs.nodeinit-identity", tmp_path) or "")
    assert ext4_read(disk, "/overlayfs/overlay-boots", tmp_path) is None
    assert ext4_read(disk, "/overlay-boots", tmp_path) is None
