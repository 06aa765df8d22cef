#!/bin/bash
# Builds the Debian 12 systemd image the system tests export over NFS beside the busybox ones: what a site
# boots (debootstrap minbase + systemd, udev, iproute2, kmod and openssh-server, whose /etc/ssh is the classic
# statelite `persistent` entry). Made once with debootstrap and cached in ROOT; rebuilt when this script
# changes (its hash is kept in ROOT/.nodeinit-image).
#
# Configured the way a diskless site configures an image, nothing nodeinit-specific:
# - no /etc/fstab entries: the root is whatever the initramfs mounted (overlay over NFS);
# - no network manager: the interface the initramfs configured stays as it is (no ifupdown, networkd off);
# - root logs in on the serial console without a password (the tests drive the node there), and
#   /etc/hostname is empty, so the host name the boot set (DHCP, ip=, NODE=) is kept;
# - /etc/resolv.conf links to /run/resolv.conf, which nodeinit writes.
#
# Usage: scripts/build-debian-image.sh ROOT
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/peer-chroot.sh

root=${1:?usage: build-debian-image.sh ROOT}
peer=build-debian-image
stamp=$(sha256sum scripts/build-debian-image.sh scripts/peer-chroot.sh | sha256sum | cut -c1-16)
if [ "$(cat "$root/.nodeinit-image" 2>/dev/null)" = "$stamp" ]; then
    exit 0
fi
rm -rf "$root"
packages="systemd systemd-sysv udev iproute2 kmod openssh-server procps"
peer_chroot_ensure "$root" "$packages"

# Root on the serial console, without a password (a test image; never a site's).
peer_chroot_run "$root" "$root.log" "passwd -d root"
getty="$root/etc/systemd/system/serial-getty@ttyS0.service.d"
mkdir -p "$getty"
cat >"$getty/autologin.conf" <<'EOF'
[Service]
ExecStart=
ExecStart=-/sbin/agetty --autologin root --noclear --keep-baud 115200,38400,9600 %I linux
EOF
# No fstab entry; no host name of the image's own; DNS from the initramfs.
printf '# written by scripts/build-debian-image.sh: the root comes from the initramfs\n' >"$root/etc/fstab"
: >"$root/etc/hostname"
rm -f "$root/etc/resolv.conf"
ln -s /run/resolv.conf "$root/etc/resolv.conf"
# The machine id is made at each boot (a shared image must not carry one), as systemd does for an empty file.
: >"$root/etc/machine-id"
# A quiet console: the tests read what they type among the kernel's lines.
mkdir -p "$root/etc/sysctl.d"
printf 'kernel.printk = 3 4 1 3\n' >"$root/etc/sysctl.d/10-console-quiet.conf"
# Clean up what debootstrap and apt leave behind.
rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*_Packages
# No bracketed-paste switches on the console the tests read.
printf "set enable-bracketed-paste off\n" >>"$root/etc/inputrc"
echo "$stamp" >"$root/.nodeinit-image"
du -sh "$root" | sed "s|^|$peer: |" >&2
