#!/bin/bash
# Downloads Debian's NIC firmware packages and unpacks them (dpkg-deb -x, never installed) into a cache:
# build/firmware/root/lib/firmware, a directory for `nodeinit initramfs --firmware-dir` (FIRMWARE_DIR= for
# `make initramfs`). They live in Debian's non-free-firmware component, which this machine's apt sources may not
# list: a private sources list and package cache under the cache directory are used for the download only, so
# the host's apt configuration and package state are not touched.
#
# Usage: scripts/fetch-firmware.sh [CACHEDIR]   (default build/firmware)
#   FIRMWARE_PACKAGES  the packages (default: firmware-bnx2 firmware-bnx2x firmware-realtek firmware-misc-nonfree
#                      firmware-netronome: Broadcom NetXtreme II, Realtek, Intel ice/Mellanox/misc, Netronome)
#   DEBIAN_SUITE       the suite (default: VERSION_CODENAME of /etc/os-release)
# Prints one line: FIRMWARE_DIR=<path>. Does nothing but print when the cache is complete.
set -euo pipefail

cd "$(dirname "$0")/.."
cache=${1:-build/firmware}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
packages=${FIRMWARE_PACKAGES:-firmware-bnx2 firmware-bnx2x firmware-realtek firmware-misc-nonfree firmware-netronome}
suite=${DEBIAN_SUITE:-$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")}
stamp="$cache/root/.packages"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$suite $packages" ]; then
    echo "FIRMWARE_DIR=$cache/root/lib/firmware"
    exit 0
fi

apt_dir="$cache/apt"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$cache/debs"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite non-free-firmware" \
    >"$apt_dir/sources.list"
apt_options=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
             -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache")
echo "fetch-firmware: reading the $suite non-free-firmware package list" >&2
apt-get "${apt_options[@]}" -qq update >&2
rm -f "$cache"/debs/*.deb
# shellcheck disable=SC2086  # one word per package
(cd "$cache/debs" && apt-get "${apt_options[@]}" -qq download $packages >&2)

rm -rf "$cache/root"
mkdir -p "$cache/root"
for deb in "$cache"/debs/*.deb; do
    echo "fetch-firmware: unpacking $(basename "$deb")" >&2
    dpkg-deb -x "$deb" "$cache/root"
done
printf '%s' "$suite $packages" >"$stamp"
echo "FIRMWARE_DIR=$cache/root/lib/firmware"
