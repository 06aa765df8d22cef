"""`make bench-storm`: N nodes (default 3: TCG on 2 cores) boot the Debian 12 systemd image at once from one ganesha,
from a DHCP server that sends no host names (QEMU's), as after a cluster-wide reboot. Each node's time from kernel
start to multi-user.target (`systemd-analyze time`: kernel + userspace) and the NFS requests its client sent to
reach it (every NFS mount's per-op counts in /proc/self/mountstats: what the server answered for that node), for
nodeinit (NFSv4.2, its per-node client identity) and for Debian's initramfs-tools + overlayroot (NFSv3), the same
storm side by side; one nodeinit node alone for reference.
"""

from __future__ import annotations

import os
import time

from . import nfs, paths
from .bench import build_initramfs_tools_initramfs
from .debian import DEBIAN_APPEND, DebianBootSample, debian_image, measure_boot
from .procs import HarnessError
from .qemu import GUEST_HOST_ADDR, VM, VMConfig
from .stats import median


def storm(name: str, initrd: str, append: str, nodes: int, cpu_model: str | None) -> list[DebianBootSample]:
    vms = []
    try:
        for index in range(nodes):
            config = VMConfig(kernel=paths.kernel(), initrd=initrd, append=append, mac=f"52:54:00:5b:00:{index + 1:02x}",
                              cpu_model=cpu_model)
            vm = VM(config, os.path.join(paths.logs_dir(), f"bench-storm-{name.split()[0]}-{nodes}-{index + 1}.log"))
            vm.start()
            vms.append(vm)
        samples = []
        for vm in vms:
            try:
                samples.append(measure_boot(vm))
            except HarnessError as error:
                print(f"bench-storm: {name}: a node did not reach multi-user: {error}", flush=True)
                samples.append(DebianBootSample(None, None, state="timeout"))
        return samples
    finally:
        for vm in vms:
            vm.kill()


def run_storm_bench(nodes: int, with_initramfs_tools: bool = True, cpu_model: str | None = None) -> int:
    image = debian_image()
    base = f"console=ttyS0 panic=1 rd.retry=300 {DEBIAN_APPEND}"
    variants = [("nodeinit", paths.initramfs(), f"{base} ip=dhcp root=nfs4:{GUEST_HOST_ADDR}:{image}")]
    if with_initramfs_tools:
        variants.append(("initramfs-tools+overlayroot", build_initramfs_tools_initramfs(),
                         f"{base} ip=dhcp root=/dev/nfs nfsroot={GUEST_HOST_ADDR}:{image}"))
    results: dict[str, list[DebianBootSample]] = {}
    with nfs.NFSServer([nfs.Export(image)]):
        started = time.monotonic()
        results["nodeinit, 1 node alone"] = storm("nodeinit", variants[0][1], variants[0][2], 1, cpu_model)
        print(f"bench-storm: single nodeinit node in {time.monotonic() - started:.0f} s wall", flush=True)
        for name, initrd, append in variants:
            started = time.monotonic()
            results[f"{name}, {nodes} at once"] = storm(name, initrd, append, nodes, cpu_model)
            print(f"bench-storm: {name} storm of {nodes} in {time.monotonic() - started:.0f} s wall", flush=True)

    print(f"\nbench-storm: Debian 12 systemd image, QEMU TCG, virtio-net, one loopback ganesha, DHCP without host "
          f"names; per node: kernel start -> multi-user (the default target), NFS requests its client sent")
    for name, samples in results.items():
        print(f"\n{name}:")
        for index, s in enumerate(samples, start=1):
            shown = f"{s.multi_user_s:7.1f} s" if s.multi_user_s is not None else "   none"
            print(f"    node {index}: multi-user {shown}, state {s.state or '?'}, {s.requests} requests ({s.top_ops()})")
        print(f"    median: multi-user {median(s.multi_user_s for s in samples)}, "
              f"requests {median(s.requests for s in samples)}")
    storm_rows = [name for name in results if "at once" in name]
    if len(storm_rows) == 2:
        ours, theirs = (results[name] for name in storm_rows)
        t0, t1 = median(s.multi_user_s for s in ours), median(s.multi_user_s for s in theirs)
        r0, r1 = median(s.requests for s in ours), median(s.requests for s in theirs)
        print(f"\nratio nodeinit / initramfs-tools in the storm: time to multi-user "
              f"{t0 / t1 if t0 and t1 else float('nan'):.2f}, requests per node {r0 / r1 if r0 and r1 else float('nan'):.2f}")
    return 0
