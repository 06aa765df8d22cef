#!/bin/sh
# Installs every Debian package the build, the tests and the demo need.
# debootstrap makes the Debian 12 systemd image (scripts/build-debian-image.sh, cached in build/images/debian-12)
# and the chroots of the peer initramfs generators (scripts/peer-chroot.sh).
# Idempotent: does nothing when everything is already present.
set -eu
PACKAGES="libmount-dev libblkid-dev libnfs-dev libnfs-utils zlib1g-dev libzstd-dev libmbedtls-dev openssl \
  qemu-system-x86 nfs-ganesha nfs-ganesha-vfs rpcbind busybox-static cpio zstd kmod \
  dnsmasq-base umoci e2fsprogs dpkg-dev iproute2 file attr libcap2-bin python3 python3-pytest tar xz-utils pkg-config \
  build-essential time buildah debootstrap"
missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# --no-install-recommends keeps nfs-ganesha from pulling in services we never start.
apt-get install -y -qq --no-install-recommends $missing
