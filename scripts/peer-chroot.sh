# Shared by the scripts/build-peer-*.sh scripts (sourced, not run): the minimal Debian chroot in
# which a peer initramfs generator (dracut, initramfs-tools) runs, since installing one on the host
# would replace the host's own initramfs tooling (and dracut's dependencies would upgrade the
# host's systemd). The chroot is made once with debootstrap and cached; its /proc, /sys and /dev
# are mounted inside a private mount namespace (unshare -m), so they vanish with the command even
# when it fails.
#
# The caller sets `peer` (a name for messages) before calling these functions.

# peer_chroot_ensure ROOT PACKAGES: debootstraps ROOT (once) and installs PACKAGES in it (again
# whenever the list changes). Output goes to ROOT.log; on failure its tail is shown.
peer_chroot_ensure() {
    local root=$1 packages=$2
    local mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
    local codename
    codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
    if [ ! -f "$root/etc/debian_version" ]; then
        command -v debootstrap >/dev/null || {
            echo "$peer: installing debootstrap" >&2
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >&2
        }
        rm -rf "$root" "$root.tmp"
        mkdir -p "$(dirname "$root")"
        echo "$peer: debootstrap $codename into $root (a few minutes, once)" >&2
        debootstrap --variant=minbase "$codename" "$root.tmp" "$mirror" >"$root.log" 2>&1 \
            || { tail -n 20 "$root.log" >&2; return 1; }
        mv "$root.tmp" "$root"
    fi
    if [ "$(cat "$root/.peer-packages" 2>/dev/null)" != "$packages" ]; then
        echo "$peer: installing $packages in the chroot" >&2
        peer_chroot_run "$root" "$root.log" \
            "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages" \
            || return 1
        echo "$packages" >"$root/.peer-packages"
    fi
}

# peer_chroot_run ROOT LOG COMMAND: runs the shell COMMAND in ROOT with /proc, /dev and /sys mounted
# in a private mount namespace, appending its output to LOG; on failure LOG's tail is shown.
peer_chroot_run() {
    local root=$1 log=$2 command=$3
    unshare -m --propagation private sh -c '
        root=$1; shift
        mount -t proc proc "$root/proc" && mount --rbind /dev "$root/dev" && mount -t sysfs sysfs "$root/sys" &&
        exec chroot "$root" sh -c "$1"' peer-chroot "$root" "$command" >>"$log" 2>&1 \
        || { tail -n 20 "$log" >&2; return 1; }
}

# peer_chroot_modules ROOT KVER MODULES_DIR: the kernel's modules, where the generator expects them
# inside its root.
peer_chroot_modules() {
    local root=$1 kver=$2 modules_dir=$3
    rm -rf "$root/lib/modules/$kver"
    mkdir -p "$root/lib/modules"
    cp -a "$modules_dir" "$root/lib/modules/$kver"
}
