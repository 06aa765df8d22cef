"""Root images the harness exports over NFS: small busybox trees with a reporting /sbin/init."""

from __future__ import annotations

import os
import shutil
import subprocess

from .procs import HarnessError

MARK = "NODEINIT-TEST:"

# The test image's /sbin/init. Every line it prints for the tests starts with MARK; the
# assertions in test_boot.py read them back from the serial console log.
TEST_INIT = r"""#!/bin/sh
# nodeinit system-test image init: report what the booted system sees, then power off.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
M="__MARK__"
echo "$M init-started pid=$$ argv0=$0"
[ -d /proc/self ] || mount -t proc proc /proc
echo "$M uptime $(cut -d' ' -f1 /proc/uptime)"
while read -r dev mnt fstype opts rest; do
    echo "$M mount $mnt $fstype $dev $opts"
done < /proc/mounts
if touch /nodeinit-test-write 2>/dev/null; then
    echo "$M root-writable yes"
    rm -f /nodeinit-test-write
else
    echo "$M root-writable no"
fi
if [ -f /run/nodeinit/boot.json ]; then
    echo "$M boot-json $(tr -d '\n' < /run/nodeinit/boot.json)"
else
    echo "$M boot-json missing"
fi
echo "$M cmdline $(cat /proc/cmdline)"
if [ -f /etc/resolv.conf ]; then
    echo "$M resolv $(tr '\n' ';' < /etc/resolv.conf)"
fi
echo "$M hostname $(hostname)"
echo "$M nfs4-unique-id $(cat /sys/module/nfs/parameters/nfs4_unique_id 2>/dev/null)"
for pid in $(pidof nodeinit); do echo "$M agent-env $(tr '\0' ' ' < /proc/$pid/environ)"; done
echo "$M init-env $(tr '\0' ' ' < /proc/1/environ)"
for dev in /sys/class/net/*; do
    name=${dev##*/}
    [ "$name" = lo ] && continue
    echo "$M iface $name $(ip -4 -o addr show dev "$name" 2>/dev/null | awk '{print $4}')"
done
ip -4 route show 2>/dev/null | while read -r line; do echo "$M route $line"; done
case " $(cat /proc/cmdline) " in *" harness.await-successor "*)
    # The device drivers switch_root left to its successor process: wait (at most 60 s) until QEMU's IDE controller
    # (00:01.1) has its driver and no process but this one is called init (the successor is PID 1's fork).
    tries=0 left=
    while [ "$tries" -lt 120 ]; do
        left=
        for p in /proc/[0-9]*; do
            [ "${p#/proc/}" = 1 ] || [ "$(cat "$p/comm" 2>/dev/null)" != init ] || left="$left ${p#/proc/}"
        done
        [ -e /sys/bus/pci/devices/0000:00:01.1/driver ] && [ -z "$left" ] && break
        sleep 0.5
        tries=$((tries + 1))
    done
    driver=$(readlink /sys/bus/pci/devices/0000:00:01.1/driver 2>/dev/null)
    echo "$M successor ide-driver=${driver##*/} running=${left:-none} polls=$tries"
    ;;
esac
echo "$M done"
sync
poweroff -f
"""

# The demo image's init: prints the boot phases nodeinit recorded, in a readable table.
DEMO_INIT = r"""#!/bin/sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
[ -d /proc/self ] || mount -t proc proc /proc
echo
echo "=== demo node: the image's own /sbin/init is running (pid $$) ==="
echo "kernel uptime at image init: $(cut -d' ' -f1 /proc/uptime) s"
echo "root file system:"
grep -E ' / | /run/nodeinit' /proc/mounts | sed 's/^/    /'
if [ -f /run/nodeinit/boot.json ]; then
    json=$(tr -d '\n' < /run/nodeinit/boot.json)
    echo "nodeinit boot phases (from /run/nodeinit/boot.json, ms since kernel start):"
    echo "$json" | sed 's/{"name"/\n{"name"/g' \
        | sed -n 's/.*"name":"\([^"]*\)","start_ms":\([0-9]*\),"duration_ms":\([0-9]*\).*/\1 \2 \3/p' \
        | while read -r name start duration; do
            printf '    %-14s started at %6s ms, took %6s ms\n' "$name" "$start" "$duration"
        done
    echo "image init exec'd at $(echo "$json" | sed -n 's/.*"init_exec_ms":\([0-9]*\).*/\1/p') ms"
    echo "boot.json: $json"
else
    echo "no /run/nodeinit/boot.json"
fi
echo "=== demo node: powering off ==="
sync
poweroff -f
"""


IMAGE_VERSION = "5"  # bump when build_busybox_root changes what it writes


def image_is_current(root: str, init_script: str, busybox: str) -> bool:
    """True when root was built by this code from the same init and busybox (then it is kept, so a
    rebuild never pulls the tree from under a server that is exporting it)."""
    try:
        with open(os.path.join(root, "sbin/init")) as f:
            same_init = f.read() == init_script.replace("__MARK__", MARK)
        with open(os.path.join(root, "etc/nodeinit-image")) as f:
            same_version = f.read().strip().endswith(f"v{IMAGE_VERSION}")
        same_busybox = os.path.getsize(os.path.join(root, "bin/busybox")) == os.path.getsize(busybox)
        return same_init and same_version and same_busybox
    except OSError:
        return False


def build_busybox_root(root: str, init_script: str, busybox: str = "/bin/busybox") -> None:
    """Writes a minimal root: busybox + applet links, /sbin/init = init_script, empty mount points."""
    if image_is_current(root, init_script, busybox):
        return
    if os.path.isdir(root):
        shutil.rmtree(root)
    for d in ("bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "run", "tmp", "root", "var",
              "mnt"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    os.chmod(os.path.join(root, "tmp"), 0o1777)
    shutil.copy2(busybox, os.path.join(root, "bin/busybox"))
    applets = subprocess.run([busybox, "--list-full"], capture_output=True, text=True, check=True).stdout.split()
    for applet in applets:
        if applet in ("bin/busybox", "linuxrc", "sbin/init"):
            continue
        link = os.path.join(root, applet)
        os.makedirs(os.path.dirname(link), exist_ok=True)
        if not os.path.lexists(link):
            os.symlink("/bin/busybox", link)
    init_path = os.path.join(root, "sbin/init")
    with open(init_path, "w") as f:
        f.write(init_script.replace("__MARK__", MARK))
    os.chmod(init_path, 0o755)
    with open(os.path.join(root, "etc/hostname"), "w") as f:
        f.write("nodeinit-test\n")
    # systemd (e.g. in dracut's initramfs, the peer bench-boot measures) switches only into an OS tree.
    with open(os.path.join(root, "etc/os-release"), "w") as f:
        f.write('NAME="nodeinit test image"\nID=nodeinit-test\nPRETTY_NAME="nodeinit busybox test image"\n')
    with open(os.path.join(root, "etc/passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\n")
    with open(os.path.join(root, "etc/group"), "w") as f:
        f.write("root:x:0:\n")
    # Stamp: a file the tests can look for through the NFS root.
    with open(os.path.join(root, "etc/nodeinit-image"), "w") as f:
        f.write(f"nodeinit system-test image v{IMAGE_VERSION}\n")


def build_images(images_dir: str) -> dict[str, str]:
    """Builds (or rebuilds) every image under images_dir; returns name -> path."""
    if not os.access("/bin/busybox", os.X_OK):
        raise HarnessError("/bin/busybox is missing (install busybox-static)")
    os.makedirs(images_dir, exist_ok=True)
    paths = {
        "test-image": os.path.join(images_dir, "test-image"),
        # xCAT's NFSROOT=SRV:DIR mounts DIR/rootimg: a second copy of the test image laid out that way.
        "xcat-rootimg": os.path.join(images_dir, "xcat", "rootimg"),
        "demo-image": os.path.join(images_dir, "demo-image"),
        "rw": os.path.join(images_dir, "rw"),
    }
    build_busybox_root(paths["test-image"], TEST_INIT)
    build_busybox_root(paths["xcat-rootimg"], TEST_INIT)
    build_busybox_root(paths["demo-image"], DEMO_INIT)
    os.makedirs(paths["rw"], exist_ok=True)
    return paths
