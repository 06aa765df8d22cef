"""A node laid out like a WalT Debian image (issue 11): WalT's boot chain after the root mount, in QEMU.

WalT's server writes `/bin/walt-env` and the walt-init scripts into every image it exports; the node's kernel command
line comes from the image's iPXE scripts (walt-images `start-generic-nfs3.ipxe` / `-nfs4.ipxe` + `start-generic-2.ipxe`).
`WALT_INIT` is our own walt-init, written from WalT's documented behaviour (walt-python-packages
`server/walt/server/mount/walt-init`, `walt-init-rootfs`, `walt-init-rootfs-main`, `walt-boot-modes` network mode,
`walt-init-finalfs`), not a copy of it: the same mounts, pivots and files, in one script with three stages:

1. as PID 1 on the read-only NFS root nodeinit hands over: mount what is missing, a RAM root on /run/walt/rootfs with
   busybox in it, `pivot_root . mnt/nfsroot`, chroot into the RAM root;
2. in the RAM root: move /dev /proc /sys /run out of the NFS root, mount /persist (NFSv3, rw, from the WalT server),
   mount the overlay `upperdir=fs_rw,lowerdir=/mnt/nfsroot,workdir=fs_work` on /mnt/finalfs, record
   `walt_boot_mode` in the final root's /bin/walt-env, move the kernel file systems in, `pivot_root . run/walt/rootfs`;
3. in the final root: bind /persist, the NFS watchdog (chrooted in the RAM root), exec the image's /sbin/init.

Harness adaptations, each because the harness is not a WalT server: the persist share lives under the harness's
read-write export (`walt_nodes_dir` in walt-env, WalT's is /var/lib/walt/nodes), and /persist is mounted with
`proto=tcp,mountproto=tcp` (the loopback ganesha has no UDP).
"""

from __future__ import annotations

import os
import subprocess


MARK = "WALT-TEST:"
D = "/srv/walt-save"
NODE_NAME = "walt-node-12"
QEMU_MAC = "52:54:00:12:34:56"  # QEMU's default NIC address: the `${mac}` iPXE puts in WalT's paths
IMAGE_ID = "nodeinit-walt-test"

WALT_INIT = r"""#!/bin/busybox sh
# walt-init for nodeinit's system tests: WalT's boot chain after the root mount (see Tests/System/harness/walt.py).
RAM=/run/walt/rootfs
say() { echo "*** walt-init ($stage): $*"; }
fail() { echo "*** walt-init ($stage): FAILED: $*"; exec busybox sh; }
stage=${1:-start}
case "$stage" in
start)
    [ "$$" -eq 1 ] || { echo "walt-init must run as PID 1" >&2; exit 1; }
    . /bin/walt-env
    [ -e /proc/self ] || busybox mount -t proc proc /proc
    [ -d /sys/class ] || busybox mount -t sysfs sysfs /sys
    [ -e /dev/null ] || busybox mount -t devtmpfs udev /dev
    busybox grep -q " /run " /proc/mounts || busybox mount -t tmpfs tmpfs /run
    busybox modprobe -a overlay nfs nfsv3 2>/dev/null || true
    say "root as handed over: $(busybox grep ' / ' /proc/mounts | busybox tail -n 1)"
    busybox mkdir -p $RAM
    busybox mount -t tmpfs tmpfs $RAM || fail "tmpfs on $RAM"
    cd $RAM
    busybox mkdir -p tmp bin dev proc sys run mnt/nfsroot
    busybox cp /bin/busybox /bin/walt-init /bin/walt-env bin/
    for applet in sh mount umount mkdir cp mv rm cat grep ls sleep timeout chroot pivot_root reboot uname echo; do
        busybox ln -s busybox bin/$applet
    done
    say "pivot_root into the RAM root"
    busybox pivot_root . mnt/nfsroot || fail "pivot_root into $RAM"
    exec busybox chroot . bin/walt-init rootfs <mnt/nfsroot/dev/console >mnt/nfsroot/dev/console 2>&1
    ;;
rootfs)
    . /bin/walt-env
    for d in dev proc sys run; do mount -o move /mnt/nfsroot/$d /$d || fail "moving /$d"; done
    persist="$walt_server_ip:${walt_nodes_dir:-/var/lib/walt/nodes}/$(uname -n)/persist"
    mkdir -p /mnt/persist
    if mount -t nfs -o rw,relatime,vers=3,nolock,proto=tcp,mountproto=tcp "$persist" /mnt/persist; then
        say "/persist from $persist"
    else
        say "/persist was not mounted ($persist)"
        rm -rf /mnt/persist
    fi
    boot_mode=network
    cd /mnt
    mkdir -p fs_rw fs_work finalfs
    mount -t overlay -o upperdir=fs_rw,lowerdir=/mnt/nfsroot,workdir=fs_work union finalfs || fail "overlay"
    cd /
    grep -v "walt_boot_mode=" /mnt/finalfs/bin/walt-env > /mnt/finalfs/bin/walt-env.new
    echo "export walt_boot_mode='$boot_mode'" >> /mnt/finalfs/bin/walt-env.new
    mv /mnt/finalfs/bin/walt-env.new /mnt/finalfs/bin/walt-env
    cd /mnt/finalfs
    for d in dev proc sys run; do mount -o move /$d $d || fail "moving /$d to the final root"; done
    say "pivot_root into the final root"
    pivot_root . run/walt/rootfs || fail "pivot_root into the final root"
    exec chroot . /bin/walt-init finalfs <dev/console >dev/console 2>&1
    ;;
finalfs)
    cd $RAM
    if [ -d mnt/persist ]; then
        mkdir -p /persist
        mount -o bind mnt/persist /persist
    fi
    mount -o bind /dev dev
    # The NFS watchdog runs from RAM, so it keeps running if the server goes: WalT reboots when the root hangs.
    chroot . sh -c 'while sleep 5; do timeout 20 ls /mnt/nfsroot/ >/dev/null || reboot -f; done' </dev/null >/dev/null 2>&1 &
    cd /
    say "handing over to the image's init"
    exec /sbin/init "$@" </dev/console >/dev/console 2>&1
    ;;
esac
"""

# The image's own /sbin/init: what a WalT OS would run; here it reports the state walt-init left, makes the changes a
# user would, dumps them as `walt node save` does (stdout; to /persist, which the host reads), and waits for the pull.
WALT_IMAGE_INIT = r"""#!/bin/sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
M="WALT-TEST:"
echo "$M init pid=$$"
while read -r dev mnt fstype opts rest; do echo "$M mount $mnt $fstype $dev $opts"; done < /proc/mounts
echo "$M $(grep walt_boot_mode /bin/walt-env)"
echo "$M hostname $(hostname)"
[ -f /run/walt/rootfs/mnt/nfsroot/etc/nodeinit-image ] && echo "$M lower-visible yes"
for pid in $(pidof nodeinit); do echo "$M agent pid=$pid root=$(readlink /proc/$pid/root)"; done
echo "$M dump-link $(readlink /run/nodeinit/walt-dump-diff-layer)"
D=/srv/walt-save
echo "created on the node" > $D/created.txt
echo "modified on the node" > $D/modify.txt
rm $D/delete.txt
echo "persistent" > /persist/node-file.txt
sync
/run/nodeinit/walt-dump-diff-layer > /persist/ar.tar 2> /persist/dump.err
echo "$M dump rc=$? $(cat /persist/dump.err)"
sync
echo "$M changes-done"
while true; do sleep 3600; done
"""

WALT_ENV = """#!/bin/sh

export walt_server_ip=10.0.2.2
export walt_server_rpc_port=12345
export walt_server_logs_port=12346
export walt_server_notify_bootup_port=12347
export walt_image_id={image_id}
export walt_image_size_kib=4096
# harness only: where the per-node persist shares are exported (WalT: /var/lib/walt/nodes)
export walt_nodes_dir={nodes_dir}
"""

SEED = [("modify.txt", "original\n"), ("delete.txt", "doomed\n"), ("keep.txt", "untouched\n")]


def make_walt_image(base_image: str, root: str, persist_nodes_dir: str) -> None:
    """A copy of the busybox test image laid out as a WalT server exports one: walt-init, walt-env, the image's init."""
    subprocess.run(["cp", "-a", base_image, root], check=True)
    for path, text, mode in (("bin/walt-init", WALT_INIT, 0o755), ("sbin/init", WALT_IMAGE_INIT, 0o755),
                             ("bin/walt-env", WALT_ENV.format(image_id=IMAGE_ID, nodes_dir=persist_nodes_dir), 0o755)):
        full = os.path.join(root, path)
        if os.path.lexists(full):
            os.remove(full)
        with open(full, "w") as f:
            f.write(text)
        os.chmod(full, mode)
    os.makedirs(os.path.join(root, "bin/_walt_internal_"), exist_ok=True)
    os.makedirs(os.path.join(root, "persist"), exist_ok=True)
    base = os.path.join(root, D.lstrip("/"))
    os.makedirs(base)
    for name, content in SEED:
        with open(os.path.join(base, name), "w") as f:
            f.write(content)


def ipxe_command_line(variant: str, server: str, nodes_dir: str, ip: str, gateway: str, netmask: str) -> str:
    """The kernel command line WalT's iPXE scripts build (`kernel ${urlprefix}/kernel initrd=initrd ${bootargs}`),
    with the harness's server and the per-node path under `nodes_dir` instead of /var/lib/walt/nodes."""
    nfs_root = f"{server}:{nodes_dir}/{QEMU_MAC}/fs"
    caches = "acregmin=157680000,acregmax=157680000,acdirmin=157680000,acdirmax=157680000"
    if variant == "nfs3":
        fs_bootargs = f"root=/dev/nfs boot=walt rootfstype=walt nfsroot={nfs_root},ro,vers=3,nolock,nocto,{caches}"
    elif variant == "nfs4":
        fs_bootargs = f"root=/dev/nfs4 boot=walt rootfstype=walt nfsroot={nfs_root},ro,nocto,{caches}"
    else:
        raise ValueError(variant)
    walt_bootargs = f"walt.node.model=pc-x86-64 walt.server.ip={server}"
    ip_conf = f"ip={ip}:{server}:{gateway}:{netmask}:{NODE_NAME}::off BOOTIF=01-{QEMU_MAC.replace(':', '-')}"
    other_bootargs = f"init=/bin/walt-init panic=30 {ip_conf}"
    return f"initrd=initrd {fs_bootargs} {walt_bootargs} {other_bootargs}"


def node_report(output: str) -> list[str]:
    return [line.split(MARK, 1)[1].strip() for line in output.splitlines() if MARK in line]
