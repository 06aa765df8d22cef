"""`make bench-boot`: N boots of the test image; median time from kernel start to the exec of the
image's init, per-phase breakdown, and initramfs sizes, next to the alternatives a user would pick
booting the same NFS root: Debian 12's dracut 059 (`--no-hostonly -a nfs`, systemd flavour, built in
a debootstrap chroot by scripts/build-peer-dracut.sh), Debian 12's initramfs-tools 0.142 with BOOT=nfs
and overlayroot=tmpfs (scripts/build-peer-initramfs-tools.sh, a second chroot) and a hand-written
busybox /init (the kind xCAT's legacy initrd and WalT's use; the harness's selftest_init.sh).

Times are guest time since kernel start (CLOCK_BOOTTIME in boot.json, the kernel's printk stamps,
/proc/uptime in the image's init). Under TCG emulation everything runs several times slower than on
hardware; the ratios are what carries over.
"""

from __future__ import annotations

import gzip
import os
import re
import statistics
import subprocess
from dataclasses import dataclass, field

from . import images, nfs, paths
from .procs import HarnessError
from .qemu import GUEST_HOST_ADDR, VM, VMConfig
from .report import parse_report
from .selftest import build_selftest_initramfs

BOOT_BOUND = 300
RUN_INIT = re.compile(r"^\[\s*(\d+\.\d+)\] Run /init as init process", re.MULTILINE)


@dataclass
class BootSample:
    kernel_to_init_ms: float | None  # printk stamp of "Run /init"
    image_init_ms: float | None  # the image init's /proc/uptime (after its own exec + one fork)
    init_start_ms: float | None = None  # boot.json: nodeinit's first timestamp (after Swift runtime start)
    init_exec_ms: float | None = None  # boot.json: right before exec of the image's init
    phases: dict[str, float] = field(default_factory=dict)
    wall_s: float = 0.0
    root: str = "?"  # the root the image's init saw: "<fstype> rw|ro"


def initramfs_sizes(path: str) -> tuple[int, int]:
    """(compressed, uncompressed) bytes of a zstd or gzip cpio (or a plain one)."""
    compressed = os.path.getsize(path)
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic == b"\x28\xb5\x2f\xfd":
        result = subprocess.run(["zstd", "-dc", path], capture_output=True, check=True)
        return compressed, len(result.stdout)
    if magic[:2] == b"\x1f\x8b":
        with gzip.open(path, "rb") as f:
            return compressed, len(f.read())
    return compressed, compressed


def boot_once(kernel: str, initrd: str, append: str, log: str, cpu_model: str | None = None,
              nic: str = "virtio-net-pci") -> BootSample:
    config = VMConfig(kernel=kernel, initrd=initrd, append=append, cpu_model=cpu_model, nic=nic)
    with VM(config, log) as vm:
        vm.wait_exit(BOOT_BOUND)
        output = vm.output
        wall = vm.elapsed()
    report = parse_report(output)
    if report is None:
        raise HarnessError(f"the image's init never ran; see {log}")
    run_init = RUN_INIT.search(output)
    sample = BootSample(
        kernel_to_init_ms=float(run_init.group(1)) * 1000 if run_init else None,
        image_init_ms=report.uptime * 1000 if report.uptime is not None else None,
        wall_s=wall,
    )
    root_mount = report.mount_at("/")
    if root_mount is not None:
        writable = {True: "rw", False: "ro"}.get(report.root_writable, "?")
        sample.root = f"{root_mount.fstype} {writable}"
    document = report.boot_json
    if isinstance(document, dict):
        if isinstance(document.get("init_start_ms"), (int, float)):
            sample.init_start_ms = float(document["init_start_ms"])
        if isinstance(document.get("init_exec_ms"), (int, float)):
            sample.init_exec_ms = float(document["init_exec_ms"])
        for phase in document.get("phases", []):
            if isinstance(phase, dict) and isinstance(phase.get("duration_ms"), (int, float)):
                sample.phases[str(phase.get("name"))] = float(phase["duration_ms"])
    return sample


def median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def fmt_ms(value: float | None) -> str:
    return f"{value:8.0f} ms" if value is not None else "       n/a"


def fmt_bytes(value: int) -> str:
    return f"{value / 1e6:6.1f} MB"


def build_peer_initramfs(script: str, name: str) -> str:
    """build/peers/NAME.img, made once by scripts/SCRIPT for the cached Debian kernel."""
    out = os.path.join(paths.BUILD, "peers", f"{name}.img")
    if os.path.isfile(out):
        return out
    kernel = paths.debian_kernel()
    result = subprocess.run([os.path.join(paths.REPO, "scripts", script), kernel["KVER"],
                             kernel["MODULES_DIR"], out], stdout=subprocess.PIPE, text=True)
    if result.returncode != 0:
        raise HarnessError(f"scripts/{script} failed (see build/peers/*.log)")
    return out


def build_dracut_initramfs() -> str:
    return build_peer_initramfs("build-peer-dracut.sh", "dracut-initramfs")


def build_initramfs_tools_initramfs() -> str:
    return build_peer_initramfs("build-peer-initramfs-tools.sh", "initramfs-tools-overlayroot")


def run_bench(boots: int, with_dracut: bool = True, with_initramfs_tools: bool = True,
              cpu_model: str | None = None, nic: str = "virtio-net-pci") -> int:
    """cpu_model: QEMU's `-cpu` for every variant. `max` offers RDRAND as real x86 servers do, so the kernel's CRNG
    is ready at once; with QEMU's default model it is not until about 1 s into the initramfs under TCG, and whatever
    calls getrandom() first waits for it (the static Swift runtime does, seeding its hash function)."""
    image = images.build_images(paths.images_dir())["test-image"]
    kernel = paths.kernel()
    ours = paths.initramfs()
    busybox_initrd = build_selftest_initramfs()
    base = "console=ttyS0 panic=1 rd.retry=60"
    variants = [
        ("nodeinit", ours, f"{base} ip=dhcp root=nfs:{GUEST_HOST_ADDR}:{image}"),
        ("busybox sh /init", busybox_initrd, f"{base} selftest.root={image} selftest.vers=4.2"),
    ]
    if with_dracut:
        variants.append(("dracut 059", build_dracut_initramfs(),
                         f"{base} ip=dhcp root=nfs:{GUEST_HOST_ADDR}:{image}:ro"))
    if with_initramfs_tools:
        # overlayroot=tmpfs is built into the image (its conf.d); klibc's nfsmount speaks NFSv3 only.
        variants.append(("initramfs-tools+overlayroot", build_initramfs_tools_initramfs(),
                         f"{base} ip=dhcp root=/dev/nfs nfsroot={GUEST_HOST_ADDR}:{image}"))
    results: dict[str, list[BootSample]] = {name: [] for name, _, _ in variants}
    with nfs.NFSServer([nfs.Export(image)]):
        for i in range(boots):
            for name, initrd, append in variants:
                log = os.path.join(paths.logs_dir(), f"bench-{name.split()[0]}-{i + 1}.log")
                sample = boot_once(kernel, initrd, append, log, cpu_model, nic)
                results[name].append(sample)
                print(f"bench-boot: {name} boot {i + 1}/{boots}: image init at {fmt_ms(sample.image_init_ms)}"
                      f" (wall {sample.wall_s:.1f} s, root {sample.root})", flush=True)

    print()
    print(f"bench-boot: {boots} boots each, Debian kernel {os.path.basename(kernel)}, QEMU TCG "
          f"(-cpu {cpu_model or 'default'}), {nic}, "
          f"NFSv4.2 root from loopback ganesha; medians, guest time since kernel start")
    ours_samples = results["nodeinit"]
    print("\nnodeinit:")
    print(f"    kernel start -> /init exec'd by the kernel   {fmt_ms(median([s.kernel_to_init_ms for s in ours_samples]))}")
    print(f"    kernel start -> nodeinit's first timestamp    {fmt_ms(median([s.init_start_ms for s in ours_samples]))}"
          "  (boot.json init_start_ms)")
    phase_names: list[str] = []
    for sample in ours_samples:
        for name in sample.phases:
            if name not in phase_names:
                phase_names.append(name)
    for name in phase_names:
        print(f"    phase {name:<38} {fmt_ms(median([s.phases.get(name) for s in ours_samples]))}")
    print(f"    kernel start -> exec of the image's init     {fmt_ms(median([s.init_exec_ms for s in ours_samples]))}"
          "  (boot.json init_exec_ms)")
    print(f"    kernel start -> image init running           {fmt_ms(median([s.image_init_ms for s in ours_samples]))}"
          "  (/proc/uptime in the image's init)")

    print("\nside by side:")
    print(f"    {'initramfs':<28} {'compressed':>10} {'uncompressed':>13} {'to image init':>14} {'initramfs stage':>16}")
    rows = []
    for name, initrd, _ in variants:
        compressed, uncompressed = initramfs_sizes(initrd)
        to_init = median([s.image_init_ms for s in results[name]])
        # The initramfs stage: the kernel's "Run /init" to the image's init running.
        stage = median([s.image_init_ms - s.kernel_to_init_ms for s in results[name]
                        if s.image_init_ms is not None and s.kernel_to_init_ms is not None])
        rows.append((name, compressed, uncompressed, to_init, stage))
        print(f"    {name:<28} {fmt_bytes(compressed):>10} {fmt_bytes(uncompressed):>13} {fmt_ms(to_init):>14}"
              f" {fmt_ms(stage):>16}")
    _, c0, u0, t0, st0 = rows[0]
    for name, c1, u1, t1, st1 in rows[1:]:
        ratio_t = f"{t0 / t1:.2f}" if t0 and t1 else "n/a"
        ratio_st = f"{st0 / st1:.2f}" if st0 and st1 else "n/a"
        print(f"    ratio nodeinit / {name}: compressed {c0 / c1:.2f}, uncompressed {u0 / u1:.2f}, "
              f"time to image init {ratio_t}, initramfs stage {ratio_st}")
    print("    notes: the busybox script carries the same modules as nodeinit but does no DHCP (fixed address),"
          " no retries,\n    no module autodetection; dracut --no-hostonly carries every driver of the kernel and"
          " mounts the NFS root\n    read-only without an overlay; initramfs-tools (MODULES=netboot: every network driver) mounts it"
          " over NFSv3 with klibc's\n    nfsmount and overlayroot puts a tmpfs overlay on it, as nodeinit does.")
    return 0
