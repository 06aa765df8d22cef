#!/bin/bash
# Builds the initramfs a user would otherwise pick for an NFS root: Debian 12's dracut 059 with its
# nfs module (`dracut --no-hostonly -a nfs`), for the same kernel and module directory as ours.
# The network comes from dracut's classic network-legacy module (dhclient): with the default
# systemd-networkd flavour, dracut 059 on Debian 12 never mounted the NFS root here (the nfsroot
# initqueue hook kept waiting after networkd had configured the interface).
# For `make bench-boot` only.
#
# dracut is not installed on the host (its dependencies would upgrade the host's systemd): it runs
# in a minimal Debian chroot made with debootstrap, cached in build/peers/dracut-root. The chroot's
# /proc, /sys and /dev are mounted inside a private mount namespace (unshare -m), so they vanish
# with the command even when it fails.
#
# Usage: scripts/build-peer-dracut.sh KVER MODULES_DIR OUT [DRIVERS]
# DRIVERS: a space-separated module list for `--drivers` (only those kernel drivers plus what dracut's
# own modules need); without it dracut's generic --no-hostonly image carries every driver.
set -euo pipefail
cd "$(dirname "$0")/.."

kver=${1:?usage: build-peer-dracut.sh KVER MODULES_DIR OUT}
modules_dir=${2:?usage: build-peer-dracut.sh KVER MODULES_DIR OUT}
out=${3:?usage: build-peer-dracut.sh KVER MODULES_DIR OUT}
drivers=${4:-}
root=build/peers/dracut-root
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
. /etc/os-release

# What a Debian 12 NFS-root host has when it runs dracut: systemd + udev (so dracut builds its
# systemd flavour, the default), the network-legacy module's dhclient/ip/arping, mount.nfs.
packages="dracut dracut-network nfs-common systemd systemd-sysv udev dbus isc-dhcp-client iproute2 iputils-arping procps busybox cpio kmod zstd"
if [ ! -f "$root/etc/debian_version" ]; then
    command -v debootstrap >/dev/null || {
        echo "build-peer-dracut: installing debootstrap" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >&2
    }
    rm -rf "$root" "$root.tmp"
    mkdir -p "$(dirname "$root")"
    echo "build-peer-dracut: debootstrap $VERSION_CODENAME into $root (a few minutes, once)" >&2
    debootstrap --variant=minbase "$VERSION_CODENAME" "$root.tmp" "$mirror" >"$root.log" 2>&1 \
        || { tail -n 20 "$root.log" >&2; exit 1; }
    mv "$root.tmp" "$root"
fi
if [ "$(cat "$root/.peer-packages" 2>/dev/null)" != "$packages" ]; then
    echo "build-peer-dracut: installing $packages in the chroot" >&2
    unshare -m --propagation private sh -c "
        mount -t proc proc '$root/proc' && mount --rbind /dev '$root/dev' && mount -t sysfs sysfs '$root/sys' &&
        DEBIAN_FRONTEND=noninteractive chroot '$root' apt-get install -y -qq --no-install-recommends $packages" \
        >>"$root.log" 2>&1 || { tail -n 20 "$root.log" >&2; exit 1; }
    echo "$packages" >"$root/.peer-packages"
fi

# The kernel's modules, as dracut expects them inside its root.
rm -rf "$root/lib/modules/$kver"
mkdir -p "$root/lib/modules"
cp -a "$modules_dir" "$root/lib/modules/$kver"

unshare -m --propagation private sh -c "
    mount -t proc proc '$root/proc' && mount --rbind /dev '$root/dev' && mount -t sysfs sysfs '$root/sys' &&
    chroot '$root' dracut --quiet --force --no-hostonly --no-hostonly-cmdline \
        -a 'nfs network-legacy' -o systemd-networkd --compress zstd \
        ${drivers:+--drivers '$drivers'} --kver '$kver' /tmp/peer-dracut.img" >"$root.dracut.log" 2>&1 \
    || { tail -n 20 "$root.dracut.log" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
mv "$root/tmp/peer-dracut.img" "$out"
echo "$out"
