#!/bin/bash
# Builds the initramfs a user would otherwise pick for an NFS root: Debian 12's dracut 059 with its
# nfs module (`dracut --no-hostonly -a nfs`), for the same kernel and module directory as ours.
# The network comes from dracut's classic network-legacy module (dhclient): with the default
# systemd-networkd flavour, dracut 059 on Debian 12 never mounted the NFS root here (the nfsroot
# initqueue hook kept waiting after networkd had configured the interface).
# For `make bench-boot` only.
#
# dracut is not installed on the host (its dependencies would upgrade the host's systemd): it runs
# in a minimal Debian chroot made with debootstrap, cached in build/peers/dracut-root
# (scripts/peer-chroot.sh).
#
# Usage: scripts/build-peer-dracut.sh KVER MODULES_DIR OUT [DRIVERS]
# DRIVERS: a space-separated module list for `--drivers` (only those kernel drivers plus what dracut's
# own modules need); without it dracut's generic --no-hostonly image carries every driver.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/peer-chroot.sh

kver=${1:?usage: build-peer-dracut.sh KVER MODULES_DIR OUT}
modules_dir=${2:?usage: build-peer-dracut.sh KVER MODULES_DIR OUT}
out=${3:?usage: build-peer-dracut.sh KVER MODULES_DIR OUT}
drivers=${4:-}
root=build/peers/dracut-root
peer=build-peer-dracut

# What a Debian 12 NFS-root host has when it runs dracut: systemd + udev (so dracut builds its
# systemd flavour, the default), the network-legacy module's dhclient/ip/arping, mount.nfs.
packages="dracut dracut-network nfs-common systemd systemd-sysv udev dbus isc-dhcp-client iproute2 iputils-arping procps busybox cpio kmod zstd"
peer_chroot_ensure "$root" "$packages"
peer_chroot_modules "$root" "$kver" "$modules_dir"

rm -f "$root.dracut.log"
peer_chroot_run "$root" "$root.dracut.log" \
    "dracut --quiet --force --no-hostonly --no-hostonly-cmdline \
        -a 'nfs network-legacy' -o systemd-networkd --compress zstd \
        ${drivers:+--drivers '$drivers'} --kver '$kver' /tmp/peer-dracut.img"
mkdir -p "$(dirname "$out")"
mv "$root/tmp/peer-dracut.img" "$out"
echo "$out"
