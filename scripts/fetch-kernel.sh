#!/bin/bash
# Downloads the Debian kernel that `linux-image-amd64` currently depends on and unpacks it
# (dpkg -x, never installed) into a cache: build/kernel/root/{boot,lib/modules}.
# The .deb ships no modules.dep, so depmod runs on the unpacked tree.
#
# Usage: scripts/fetch-kernel.sh [CACHEDIR]   (default build/kernel)
# Prints three lines: KVER=..., KERNEL=<vmlinuz path>, MODULES_DIR=<lib/modules/KVER path>.
# Does nothing but print when the cache is complete.
set -euo pipefail

cd "$(dirname "$0")/.."
cache=${1:-build/kernel}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
root="$cache/root"

# The exact package name (not a glob: a glob would download every kernel version).
package=$(apt-cache depends linux-image-amd64 2>/dev/null \
    | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1)
if [ -z "$package" ]; then
    echo "fetch-kernel: apt-cache names no kernel package for linux-image-amd64 (apt-get update?)" >&2
    exit 1
fi
kver=${package#linux-image-}

if [ ! -f "$root/boot/vmlinuz-$kver" ] || [ ! -f "$root/lib/modules/$kver/modules.dep" ]; then
    if ! ls "$cache/$package"_*.deb >/dev/null 2>&1; then
        echo "fetch-kernel: downloading $package" >&2
        (cd "$cache" && apt-get download -qq "$package" >&2)
    fi
    echo "fetch-kernel: unpacking $package" >&2
    mkdir -p "$root"
    dpkg -x "$(ls "$cache/$package"_*.deb | head -n 1)" "$root"
    depmod -b "$root" "$kver"
fi

echo "KVER=$kver"
echo "KERNEL=$root/boot/vmlinuz-$kver"
echo "MODULES_DIR=$root/lib/modules/$kver"
