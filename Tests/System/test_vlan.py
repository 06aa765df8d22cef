"""Issue 12 item 2: a tagged VLAN with DHCP from dnsmasq, inside a QEMU node whose kernel has 8021q.

The host kernel of the test machine may lack 8021q (then the host test `NamespaceLinkTests` skips its VLAN case), so
the same scenario also runs in the guest: two extra NICs joined by a QEMU hub are a wire; after the boot, the image's
init moves one end into a "server" network namespace, puts VLAN 5 on it with dnsmasq bound there, moves the other end
into a "client" namespace and runs the booted node's own nodeinit (`/run/nodeinit/nodeinit network-up
vlan=eth2.5:eth2 ip=eth2.5:dhcp`), which creates the VLAN on the near side and must get the lease dnsmasq pins to
eth2's MAC. dnsmasq and iproute2 come from the host with their libraries; 8021q is loaded by the initramfs
(`rd.driver.pre=8021q`).
"""

from __future__ import annotations

import os
import shutil

from harness.images import MARK
from harness.nodesave import copy_shared_program, scratch_images_dir
from harness.qemu import GUEST_HOST_ADDR

from test_boot import booted

CLIENT_MAC = "52:54:00:12:34:59"

VLAN_INIT = r"""#!/bin/sh
export PATH=/usr/sbin:/bin:/sbin:/usr/bin
# busybox sh runs its own applets before PATH: iproute2 is called by its path.
ip() { /usr/sbin/ip "$@"; }
M="__MARK__"
echo "$M init-started pid=$$ argv0=$0"
[ -d /proc/self ] || mount -t proc proc /proc
mkdir -p /run/netns /tmp
ip netns add srv && ip netns add cli
ip link set eth1 netns srv && ip link set eth2 netns cli
ip -n srv link set lo up
ip -n srv link set eth1 up
ip -n srv link add link eth1 name eth1.5 type vlan id 5
ip -n srv addr add 10.99.0.1/24 dev eth1.5
ip -n srv link set eth1.5 up
ip netns exec srv dnsmasq --no-daemon --conf-file=/dev/null --user=root --interface=eth1.5 --bind-interfaces \
    --no-resolv --no-hosts --port=0 --dhcp-range=10.99.0.50,10.99.0.99,255.255.255.0,1h \
    --dhcp-host=__CLIENT_MAC__,10.99.0.42,vlannode --dhcp-leasefile=/tmp/leases --log-dhcp > /tmp/dnsmasq.log 2>&1 &
dnsmasq_pid=$!
for i in 1 2 3 4 5 6 7 8 9 10; do grep -q "sockets bound" /tmp/dnsmasq.log && break; sleep 1; done
ip netns exec cli /run/nodeinit/nodeinit network-up vlan=eth2.5:eth2 ip=eth2.5:dhcp --timeout 30 \
    > /tmp/lease.json 2> /tmp/network-up.log
echo "$M vlan-status $?"
echo "$M vlan-lease $(cat /tmp/lease.json)"
echo "$M vlan-link $(ip -n cli -d link show dev eth2.5 | tr '\n' ' ')"
echo "$M vlan-addr $(ip -n cli -4 -o addr show dev eth2.5 | tr '\n' ' ')"
echo "$M vlan-parent-addr [$(ip -n cli -4 -o addr show dev eth2 | tr '\n' ' ')]"
echo "$M vlan-log $(tr '\n' '|' < /tmp/network-up.log)"
echo "$M vlan-dnsmasq $(tr '\n' '|' < /tmp/dnsmasq.log)"
kill $dnsmasq_pid
echo "$M done"
sync
poweroff -f
""".replace("__MARK__", MARK).replace("__CLIENT_MAC__", CLIENT_MAC)


def make_vlan_image(base_image: str, root: str) -> None:
    shutil.copytree(base_image, root, symlinks=True)
    with open(os.path.join(root, "sbin/init"), "w") as f:
        f.write(VLAN_INIT)
    os.chmod(os.path.join(root, "sbin/init"), 0o755)
    for program in ("/usr/sbin/ip", "/usr/sbin/dnsmasq"):
        copy_shared_program(program, root)


def line(output: str, key: str) -> str:
    for text in output.splitlines():
        if f"{MARK} {key} " in text or text.rstrip().endswith(f"{MARK} {key}"):
            return text.split(f"{MARK} {key}", 1)[1].strip()
    return ""


def test_tagged_vlan_gets_a_lease_from_dnsmasq_on_the_tagged_side(boot, nfs_server, test_image):
    root = os.path.join(scratch_images_dir(), f"vlan-{os.getpid()}")
    shutil.rmtree(root, ignore_errors=True)
    make_vlan_image(test_image, root)
    try:
        wire = ["-netdev", "hubport,id=w1,hubid=1", "-device", "virtio-net-pci,netdev=w1,mac=52:54:00:12:34:58",
                "-netdev", "hubport,id=w2,hubid=1", "-device", f"virtio-net-pci,netdev=w2,mac={CLIENT_MAC}"]
        vm = boot(f"ip=eth0:dhcp root=nfs:{GUEST_HOST_ADDR}:{root} rd.driver.pre=8021q rd.retry=60",
                  extra_args=wire)
        booted(vm)
        output = vm.output
        assert line(output, "vlan-status") == "0", (line(output, "vlan-log"), line(output, "vlan-dnsmasq"), vm.log_path)
        lease = line(output, "vlan-lease")
        assert '"interface":"eth2.5"' in lease, lease
        assert '"address":"10.99.0.42"' in lease, lease
        assert f'"mac":"{CLIENT_MAC}"' in lease, lease
        assert "vlan protocol 802.1Q id 5" in line(output, "vlan-link"), line(output, "vlan-link")
        assert "inet 10.99.0.42/24" in line(output, "vlan-addr"), line(output, "vlan-addr")
        assert line(output, "vlan-parent-addr") == "[]", line(output, "vlan-parent-addr")
        # dnsmasq saw the request on the tagged interface.
        assert "DHCPACK(eth1.5) 10.99.0.42" in line(output, "vlan-dnsmasq"), line(output, "vlan-dnsmasq")
    finally:
        shutil.rmtree(root, ignore_errors=True)
