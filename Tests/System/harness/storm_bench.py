"""`make bench-storm`: N nodes (default 3: TCG on 2 cores) boot the Debian 12 systemd image at once from one ganesha,
from a DHCP server that sends no host names (QEMU's), as after a cluster-wide reboot. Each node's time from kernel
start to multi-user.target (`systemd-analyze time`: kernel + userspace) and the NFS requests its client sent to
reach it (every NFS mount's per-op counts in /proc/self/mountstats: what the server answered for that node), for
nodeinit (NFSv4.2, its per-node client identity) and for Debian's initramfs-tools + overlayroot (NFSv3), the same
storm side by side; one nodeinit node alone for reference.
"""

from __future__ import annotations

import os
import re
import statistics
import time
from dataclasses import dataclass

from . import nfs, paths
from .bench import build_initramfs_tools_initramfs
from .debian import DEBIAN_APPEND, MULTI_USER_BOUND, DebianConsole, debian_image
from .procs import HarnessError
from .qemu import GUEST_HOST_ADDR, VM, VMConfig

# The NFS per-op counts of every NFS mount, summed: `total N` then `OP N` lines.
COUNT_REQUESTS = (
    "awk '/^device /{on=($8 ~ /^nfs/)} on && /^[ \\t]*[A-Z_0-9]+: [0-9]/{sub(\":\",\"\",$1); n[$1]+=$2; t+=$2} "
    "END{print \"total\", t; for (k in n) if (n[k] > 0) print k, n[k]}' /proc/self/mountstats")


@dataclass
class NodeSample:
    multi_user_s: float | None
    requests: int | None
    top_ops: str
    state: str


def seconds(text: str) -> float | None:
    """systemd's time spans: `1min 2.345s`, `950ms`, `12.1s`."""
    total, found = 0.0, False
    for value, unit in re.findall(r"(\d+(?:\.\d+)?)(min|ms|s)\b", text):
        found = True
        total += float(value) * {"min": 60.0, "s": 1.0, "ms": 0.001}[unit]
    return total if found else None


def sample(vm: VM) -> NodeSample:
    console = DebianConsole(vm)
    console.login(timeout=MULTI_USER_BOUND * 2)
    state, _ = console.multi_user()
    _, analyze = console.run("systemd-analyze time", check=False)
    kernel = re.search(r"in (.+?) \(kernel\)", analyze)
    # The image's default target (graphical.target on Debian: reached once multi-user.target is).
    userspace = re.search(r"(?:multi-user|graphical)\.target reached after (.+?) in userspace", analyze)
    multi_user = None
    if kernel and userspace:
        k, u = seconds(kernel.group(1)), seconds(userspace.group(1))
        multi_user = k + u if k is not None and u is not None else None
    _, counted = console.run(COUNT_REQUESTS, check=False)
    counts = dict(line.split(" ", 1) for line in counted.splitlines() if " " in line)
    total = int(counts.pop("total")) if counts.get("total", "").isdigit() else None
    top = sorted(((int(v), k) for k, v in counts.items() if v.isdigit()), reverse=True)[:3]
    return NodeSample(multi_user, total, ", ".join(f"{k} {v}" for v, k in top), state)


def storm(name: str, initrd: str, append: str, nodes: int, cpu_model: str | None) -> list[NodeSample]:
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
                samples.append(sample(vm))
            except HarnessError as error:
                print(f"bench-storm: {name}: a node did not reach multi-user: {error}", flush=True)
                samples.append(NodeSample(None, None, "", "timeout"))
        return samples
    finally:
        for vm in vms:
            vm.kill()


def median(values) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def run_storm_bench(nodes: int, with_initramfs_tools: bool = True, cpu_model: str | None = None) -> int:
    image = debian_image()
    base = f"console=ttyS0 panic=1 rd.retry=300 {DEBIAN_APPEND}"
    variants = [("nodeinit", paths.initramfs(), f"{base} ip=dhcp root=nfs4:{GUEST_HOST_ADDR}:{image}")]
    if with_initramfs_tools:
        variants.append(("initramfs-tools+overlayroot", build_initramfs_tools_initramfs(),
                         f"{base} ip=dhcp root=/dev/nfs nfsroot={GUEST_HOST_ADDR}:{image}"))
    results: dict[str, list[NodeSample]] = {}
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
            print(f"    node {index}: multi-user {shown}, state {s.state or '?'}, {s.requests} requests ({s.top_ops})")
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
