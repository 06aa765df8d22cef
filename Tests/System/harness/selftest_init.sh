#!/bin/sh
# The harness's own /init (busybox), independent of nodeinit: it proves the kernel, the module
# set, QEMU's networking and the loopback NFS server work together. It loads modules, sets the
# QEMU user-network address by hand, mounts selftest.root= over NFS under a tmpfs overlay and
# switch_roots into the image's /sbin/init.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
# Debian's busybox runs applets by exec'ing /proc/self/exe; until /proc is mounted that is the
# archive's proc/self/exe -> /init link (meant for the static Swift init), i.e. this script again.
/bin/busybox mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "SELFTEST: busybox init running"
fail() { echo "SELFTEST: FAILED: $*"; sleep 1; poweroff -f; }

root= vers=4.2 nic=
for word in $(cat /proc/cmdline); do
    case "$word" in
        selftest.root=*) root=${word#selftest.root=} ;;
        selftest.vers=*) vers=${word#selftest.vers=} ;;
    esac
done
[ -n "$root" ] || fail "no selftest.root= on the command line"

for m in virtio_pci virtio_net e1000 nfsv3 nfsv4 overlay; do
    modprobe "$m" || fail "modprobe $m"
done
echo "SELFTEST: modules loaded"
ip link set lo up
ip link set eth0 up || fail "no eth0"
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
mkdir -p /lower /rw /sysroot
case "$vers" in
    3) opts="ro,nolock,vers=3,proto=tcp,mountproto=tcp,addr=10.0.2.2"; type=nfs ;;
    *) opts="ro,vers=$vers,addr=10.0.2.2"; type=nfs4 ;;
esac
tries=0
until mount -t "$type" -o "$opts" "10.0.2.2:$root" /lower; do
    tries=$((tries + 1))
    [ "$tries" -lt 10 ] || fail "mount 10.0.2.2:$root"
    sleep 2
done
echo "SELFTEST: nfs mounted vers=$vers"
mount -t tmpfs -o mode=0755 tmpfs /rw
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /sysroot || fail "overlay"
echo "SELFTEST: overlay mounted, switching root"
mount --move /dev /sysroot/dev
mount --move /sys /sysroot/sys
# From here on /proc/self/exe is the archive's link again (see above): name busybox explicitly.
/bin/busybox mount --move /proc /sysroot/proc
exec /bin/busybox switch_root /sysroot /sbin/init
