"""Issue 12 item 2 in QEMU: dracut's bond= over two NICs, the NFS root reached through the bond.

Each NIC is on its own QEMU user network (its own DHCP server and NAT, the host's loopback as the gateway
address); an active-backup bond sends everything through its active slave, so the lease shows which one it is.
"""

from __future__ import annotations

from harness.qemu import GUEST_HOST_ADDR

from test_boot import assert_overlay_root, booted, nfs_lower

SECOND_NIC = ["-netdev", "user,id=n1,net=10.0.3.0/24", "-device", "virtio-net-pci,netdev=n1,mac=52:54:00:12:34:57"]


def assert_bonded(vm, report, address: str) -> None:
    assert_overlay_root(report, vm)
    nfs_lower(report, vm)
    assert report.interfaces.get("bond0", "").startswith(address), report.interfaces
    # The slaves carry no address of their own.
    assert report.interfaces.get("eth0") == "" and report.interfaces.get("eth1") == "", report.interfaces
    assert "network: bond bond0 built" in vm.output, vm.log_path
    assert "loaded" in vm.output and "bonding" in vm.output, vm.log_path
    # DHCP ran on the bond with the bond's MAC: its first slave's.
    assert "NFSv4 client identity nodeinit-525400123456 (MAC of bond0)" in vm.output, vm.log_path
    assert [r for r in report.routes if r.startswith("default")] == [
        f"default via {address.rsplit('.', 1)[0]}.2 dev bond0"], report.routes


def test_active_backup_bond_of_two_nics_gets_a_lease(boot, nfs_server, test_image):
    # The first slave is active: the lease comes from eth0's network.
    vm = boot(f"bond=bond0:eth0,eth1:mode=active-backup,miimon=100 ip=bond0:dhcp "
              f"root=nfs:{GUEST_HOST_ADDR}:{test_image} rd.retry=60", extra_args=SECOND_NIC)
    assert_bonded(vm, booted(vm), "10.0.2.15/24")


def test_active_backup_bond_with_the_second_nic_primary(boot, nfs_server, test_image):
    # primary=eth1 (set once it is enslaved): the lease and the NFS root come through eth1's network, whose
    # gateway address 10.0.3.2 is the host's loopback there.
    vm = boot("bond=bond0:eth0,eth1:mode=active-backup,miimon=100,primary=eth1 ip=bond0:dhcp "
              f"root=nfs:10.0.3.2:{test_image} rd.retry=60", extra_args=SECOND_NIC)
    assert_bonded(vm, booted(vm), "10.0.3.15/24")
