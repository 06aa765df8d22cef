#!/bin/bash
# Builds the initramfs a Debian site (WalT testbeds among them) would otherwise pick for an NFS root
# with a writable tmpfs overlay: Debian 12's initramfs-tools 0.142 with BOOT=nfs (klibc's ipconfig
# for ip=dhcp, klibc's nfsmount, NFSv3) plus overlayroot 0.18, whose init-bottom script moves the
# NFS root to /media/root-ro and mounts an overlay with a tmpfs upper layer on top of it: the same
# thing nodeinit does. For the same kernel and module directory as ours. For `make bench-boot` only.
#
# initramfs-tools is not installed on the host (it would take over the host's own initramfs
# handling; and it conflicts with dracut as a Debian package): it runs in a second minimal Debian
# chroot made with debootstrap, cached in build/peers/initramfs-tools-root (scripts/peer-chroot.sh).
#
# The image is configured as a site would for diskless nodes: BOOT=nfs, MODULES=netboot (file
# systems, NFS, virtio and every network driver; no disk controllers) or MODULES=list with the given
# drivers, zstd, and overlayroot=tmpfs in /etc/initramfs-tools/conf.d/overlayroot (which
# mkinitramfs copies into the image's /conf/conf.d, the first configuration overlayroot reads; the
# root's /etc/overlayroot.conf and the kernel command line can still override it).
# Boot it with: root=/dev/nfs nfsroot=SERVER:/PATH ip=dhcp
#
# Usage: scripts/build-peer-initramfs-tools.sh KVER MODULES_DIR OUT [DRIVERS]
# DRIVERS: a space-separated module list (MODULES=list: only those plus what the hooks add, such as
# overlay and the NFS client); without it MODULES=netboot.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/peer-chroot.sh

usage="usage: build-peer-initramfs-tools.sh KVER MODULES_DIR OUT [DRIVERS]"
kver=${1:?$usage}
modules_dir=${2:?$usage}
out=${3:?$usage}
drivers=${4:-}
root=build/peers/initramfs-tools-root
peer=build-peer-initramfs-tools

# initramfs-tools' own recommendations (busybox, zstd) are needed here: --no-install-recommends
# would leave them out.
packages="initramfs-tools overlayroot busybox zstd kmod cpio"
peer_chroot_ensure "$root" "$packages"
peer_chroot_modules "$root" "$kver" "$modules_dir"
# mkinitramfs reads the kernel's config to check that it can unpack zstd (else it falls back to
# gzip): KCONFIG, or boot/config-KVER of the tree MODULES_DIR is in (ROOT/lib/modules/KVER).
config=${KCONFIG:-$modules_dir/../../../boot/config-$kver}
[ -f "$config" ] || { echo "$peer: $config does not exist (set KCONFIG)" >&2; exit 1; }
mkdir -p "$root/boot"
cp "$config" "$root/boot/config-$kver"

conf="$root/etc/initramfs-tools"
{
    echo "# written by scripts/build-peer-initramfs-tools.sh"
    echo "MODULES=${drivers:+list}${drivers:-netboot}"
    echo "BUSYBOX=y"
    echo "KEYMAP=n"
    echo "COMPRESS=zstd"
    echo "DEVICE="
    echo "NFSROOT=auto"
    echo "RUNSIZE=10%"
    echo "FSTYPE=auto"
    echo "BOOT=nfs"
} >"$conf/initramfs.conf"
{
    echo "# written by scripts/build-peer-initramfs-tools.sh"
    for driver in $drivers; do echo "$driver"; done
} >"$conf/modules"
echo "overlayroot=tmpfs" >"$conf/conf.d/overlayroot"

rm -f "$root.mkinitramfs.log"
peer_chroot_run "$root" "$root.mkinitramfs.log" "mkinitramfs -o /tmp/peer-initramfs-tools.img '$kver'"
mkdir -p "$(dirname "$out")"
mv "$root/tmp/peer-initramfs-tools.img" "$out"
echo "$out"
