"""`make bench-boot`: N boots of each initramfs, on each NIC model (virtio-net-pci and e1000), of two images:

- the test image (busybox userland, its init prints a report and powers off): time from kernel start to the image's
  init, nodeinit's per-phase breakdown (boot.json), initramfs sizes, beside the alternatives a user would pick
  booting the same NFS root: a hand-written busybox /init (the kind xCAT's legacy initrd and WalT's use; the
  harness's selftest_init.sh), Debian 12's initramfs-tools 0.142 with BOOT=nfs and overlayroot=tmpfs
  (scripts/build-peer-initramfs-tools.sh, a debootstrap chroot) and, with --dracut, Debian 12's dracut 059
  (`--no-hostonly -a nfs`, systemd flavour, scripts/build-peer-dracut.sh, a second chroot);
- the Debian 12 systemd image (scripts/build-debian-image.sh): the initramfs stage, the time to multi-user.target
  and the NFS requests the node's client sent to get there (harness/debian.py's measure_boot, shared with
  `make bench-storm`), for nodeinit and initramfs-tools + overlayroot, and for nodeinit once more with the root mount
  options it used before issue 15 (NFSv4.2 with close-to-open and the kernel's attribute cache times), the request
  count before and after.

The initramfs stage is the kernel's "Run /init" printk stamp to the image's init running (/proc/uptime in the test
image's init; systemd-analyze's "kernel" time on Debian). Times are guest time since kernel start (CLOCK_BOOTTIME in
boot.json, the kernel's printk stamps). Under TCG emulation everything runs several times slower than on hardware,
and on a shared machine the figures move from run to run; the ratios are what carries over. Boots are interleaved
(boot i of every variant, then boot i + 1), so a load change on the host hits every variant alike.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import time
from dataclasses import dataclass, field

from . import images, nfs, paths
from .debian import DEBIAN_APPEND, MULTI_USER_BOUND, DebianBootSample, debian_image, format_ops, measure_boot
from .procs import HarnessError
from .qemu import GUEST_HOST_ADDR, NICS, VM, VMConfig, run_init_ms
from .report import parse_report
from .selftest import build_selftest_initramfs
from .stats import fmt_ratio, median, ratio, span

BOOT_BOUND = 300

NODEINIT = "nodeinit"
BUSYBOX = "busybox sh /init"
DRACUT = "dracut 059"
INITRAMFS_TOOLS = "initramfs-tools+overlayroot"
# nodeinit on the Debian image with the root mount options of before issue 15: NFSv4.2 first, close-to-open and the
# kernel's attribute cache times (nodeinit.nfs.rootcache=live; the versions as nodeinit.nfs.versions= gives them).
NODEINIT_BEFORE = "nodeinit, before (v4.2, cto)"
BEFORE_APPEND = "nodeinit.nfs.versions=4.2,4.1,3 nodeinit.nfs.rootcache=live"
# The NFS version the hand-written script mounts: the one nodeinit's default plan mounts first on ganesha.
BUSYBOX_NFS_VERSION = "3"


@dataclass
class BootSample:
    kernel_to_init_ms: float | None  # printk stamp of "Run /init"
    image_init_ms: float | None  # the image init's /proc/uptime (after its own exec + one fork)
    init_start_ms: float | None = None  # boot.json: nodeinit's first timestamp (after Swift runtime start)
    init_exec_ms: float | None = None  # boot.json: right before exec of the image's init
    phases: dict[str, float] = field(default_factory=dict)
    wall_s: float = 0.0
    root: str = "?"  # the root the image's init saw: "<fstype> rw|ro"

    @property
    def initramfs_stage_ms(self) -> float | None:
        """The kernel's "Run /init" to the image's init running."""
        if self.kernel_to_init_ms is None or self.image_init_ms is None:
            return None
        return self.image_init_ms - self.kernel_to_init_ms


@dataclass
class Variant:
    name: str
    initrd: str
    append: str  # the kernel command line, the same on every NIC


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
              nic: str = NICS[0]) -> BootSample:
    config = VMConfig(kernel=kernel, initrd=initrd, append=append, cpu_model=cpu_model, nic=nic)
    with VM(config, log) as vm:
        vm.wait_exit(BOOT_BOUND)
        output = vm.output
        wall = vm.elapsed()
    report = parse_report(output)
    if report is None:
        raise HarnessError(f"the image's init never ran; see {log}")
    sample = BootSample(
        kernel_to_init_ms=run_init_ms(output),
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


def debian_boot_once(initrd: str, append: str, log: str, cpu_model: str | None, nic: str) -> DebianBootSample:
    config = VMConfig(kernel=paths.kernel(), initrd=initrd, append=append, cpu_model=cpu_model, nic=nic)
    with VM(config, log) as vm:
        try:
            return measure_boot(vm, timeout=MULTI_USER_BOUND)
        except HarnessError as error:
            print(f"bench-boot: Debian boot did not reach multi-user: {error}", flush=True)
            return DebianBootSample(None, None, state="timeout")


def fmt_ms(value: float | None) -> str:
    return f"{value:8.0f} ms" if value is not None else "       n/a"


def fmt_span_ms(values: list[float | None]) -> str:
    found = span(values)
    return f"[{found[0]:.0f}-{found[1]:.0f}]" if found else "[n/a]"


def fmt_mib(value: float | None) -> str:
    return f"{value / (1 << 20):.1f} MiB" if value is not None else "n/a"


def fmt_s(value: float | None) -> str:
    return f"{value:6.1f} s" if value is not None else "    n/a"


def fmt_span_s(values: list[float | None]) -> str:
    found = span(values)
    return f"[{found[0]:.1f}-{found[1]:.1f}]" if found else "[n/a]"


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


def log_name(prefix: str, variant: str, nic: str, index: int) -> str:
    short = variant.split()[0].rstrip(",")
    if variant == NODEINIT_BEFORE:
        short += "-before"
    return os.path.join(paths.logs_dir(), f"{prefix}-{short}-{nic}-{index}.log")


def test_image_variants(image: str, with_busybox: bool, with_dracut: bool, with_initramfs_tools: bool) -> list[Variant]:
    base = "console=ttyS0 panic=1 rd.retry=60"
    variants = [Variant(NODEINIT, paths.initramfs(), f"{base} ip=dhcp root=nfs:{GUEST_HOST_ADDR}:{image}")]
    if with_busybox:
        variants.append(Variant(BUSYBOX, build_selftest_initramfs(),
                                f"{base} selftest.root={image} selftest.vers={BUSYBOX_NFS_VERSION}"))
    if with_dracut:
        variants.append(Variant(DRACUT, build_dracut_initramfs(),
                                f"{base} ip=dhcp root=nfs:{GUEST_HOST_ADDR}:{image}:ro"))
    if with_initramfs_tools:
        # overlayroot=tmpfs is built into the image (its conf.d); klibc's nfsmount speaks NFSv3 only.
        variants.append(Variant(INITRAMFS_TOOLS, build_initramfs_tools_initramfs(),
                                f"{base} ip=dhcp root=/dev/nfs nfsroot={GUEST_HOST_ADDR}:{image}"))
    return variants


def debian_variants(image: str, with_initramfs_tools: bool, with_before: bool) -> list[Variant]:
    base = f"console=ttyS0 panic=1 rd.retry=300 {DEBIAN_APPEND} ip=dhcp"
    variants = [Variant(NODEINIT, paths.initramfs(), f"{base} root=nfs:{GUEST_HOST_ADDR}:{image}")]
    if with_initramfs_tools:
        variants.append(Variant(INITRAMFS_TOOLS, build_initramfs_tools_initramfs(),
                                f"{base} root=/dev/nfs nfsroot={GUEST_HOST_ADDR}:{image}"))
    if with_before:
        variants.append(Variant(NODEINIT_BEFORE, paths.initramfs(),
                                f"{base} root=nfs:{GUEST_HOST_ADDR}:{image} {BEFORE_APPEND}"))
    return variants


def run_bench(boots: int, with_dracut: bool = False, with_initramfs_tools: bool = True,
              cpu_model: str | None = None, nics: list[str] | None = None, with_busybox: bool = True,
              with_test_image: bool = True, with_debian: bool = True, debian_boots: int | None = None,
              debian_nics: list[str] | None = None, with_before: bool = True) -> int:
    """cpu_model: QEMU's `-cpu` for every variant. `max` offers RDRAND as real x86 servers do, so the kernel's CRNG
    is ready at once; with QEMU's default model it is not until about 1 s into the initramfs under TCG, and whatever
    calls getrandom() first waits for it (the static Swift runtime does, seeding its hash function).
    nics: the NIC models of the test-image boots (default both); debian_nics those of the Debian boots (default the
    same). The "before" Debian variant boots on the first Debian NIC only: its request count does not depend on the
    NIC."""
    nics = list(nics or NICS)
    debian_nics = list(debian_nics or nics)
    debian_boots = boots if debian_boots is None else debian_boots
    kernel = paths.kernel()
    started = time.monotonic()
    test_results: dict[tuple[str, str], list[BootSample]] = {}
    test_variants: list[Variant] = []
    if with_test_image:
        image = images.build_images(paths.images_dir())["test-image"]
        test_variants = test_image_variants(image, with_busybox, with_dracut, with_initramfs_tools)
        with nfs.NFSServer([nfs.Export(image)]):
            for i in range(boots):
                for nic in nics:
                    for variant in test_variants:
                        log = log_name("bench", variant.name, nic, i + 1)
                        sample = boot_once(kernel, variant.initrd, variant.append, log, cpu_model, nic)
                        test_results.setdefault((variant.name, nic), []).append(sample)
                        print(f"bench-boot: {variant.name} on {nic}, boot {i + 1}/{boots}: initramfs stage "
                              f"{fmt_ms(sample.initramfs_stage_ms)}, image init at {fmt_ms(sample.image_init_ms)} "
                              f"(wall {sample.wall_s:.1f} s, root {sample.root})", flush=True)

    debian_results: dict[tuple[str, str], list[DebianBootSample]] = {}
    deb_variants: list[Variant] = []
    if with_debian and debian_boots > 0:
        image = debian_image()
        deb_variants = debian_variants(image, with_initramfs_tools, with_before)
        with nfs.NFSServer([nfs.Export(image)]):
            for i in range(debian_boots):
                for nic_index, nic in enumerate(debian_nics):
                    for variant in deb_variants:
                        if variant.name == NODEINIT_BEFORE and nic_index > 0:
                            continue
                        log = log_name("bench-debian", variant.name, nic, i + 1)
                        sample = debian_boot_once(variant.initrd, variant.append, log, cpu_model, nic)
                        debian_results.setdefault((variant.name, nic), []).append(sample)
                        shown = f"{sample.multi_user_s:.1f} s" if sample.multi_user_s is not None else "none"
                        print(f"bench-boot: Debian, {variant.name} on {nic}, boot {i + 1}/{debian_boots}: "
                              f"initramfs stage {fmt_ms(sample.initramfs_stage_ms)}, multi-user {shown}, "
                              f"{sample.requests} NFS requests ({sample.top_ops()}; READ replies "
                              f"{fmt_mib(sample.read_bytes)}), state {sample.state or '?'}",
                              flush=True)

    print(f"\nbench-boot: Debian kernel {os.path.basename(kernel)}, QEMU TCG (-cpu {cpu_model or 'default'}), "
          f"loopback ganesha; medians [min-max], guest time since kernel start; "
          f"{time.monotonic() - started:.0f} s wall in all")
    if test_variants:
        report_test_image(test_variants, test_results, boots, nics)
    if deb_variants:
        report_debian(deb_variants, debian_results, debian_boots, debian_nics)
    return 0


def report_test_image(variants: list[Variant], results: dict[tuple[str, str], list[BootSample]], boots: int,
                      nics: list[str]) -> None:
    print(f"\n== test image (busybox userland): {boots} boots of each initramfs on each NIC ==")
    sizes = {v.name: initramfs_sizes(v.initrd) for v in variants}
    summary: list[str] = []
    for nic in nics:
        ours = results.get((NODEINIT, nic), [])
        print(f"\n{nic}: nodeinit")
        print(f"    kernel start -> /init exec'd by the kernel   {fmt_ms(median(s.kernel_to_init_ms for s in ours))}")
        print(f"    kernel start -> nodeinit's first timestamp    {fmt_ms(median(s.init_start_ms for s in ours))}"
              "  (boot.json init_start_ms)")
        phase_names: list[str] = []
        for sample in ours:
            for name in sample.phases:
                if name not in phase_names:
                    phase_names.append(name)
        for name in phase_names:
            print(f"    phase {name:<38} {fmt_ms(median(s.phases.get(name) for s in ours))}")
        print(f"    kernel start -> exec of the image's init     {fmt_ms(median(s.init_exec_ms for s in ours))}"
              "  (boot.json init_exec_ms)")
        print(f"    kernel start -> image init running           {fmt_ms(median(s.image_init_ms for s in ours))}"
              "  (/proc/uptime in the image's init)")
        print(f"\n{nic}: side by side")
        print(f"    {'initramfs':<28} {'compressed':>10} {'uncompressed':>13} {'initramfs stage':>16} "
              f"{'range':>13} {'to image init':>14}")
        stages: dict[str, float | None] = {}
        to_init: dict[str, float | None] = {}
        for variant in variants:
            samples = results.get((variant.name, nic), [])
            compressed, uncompressed = sizes[variant.name]
            stages[variant.name] = median(s.initramfs_stage_ms for s in samples)
            to_init[variant.name] = median(s.image_init_ms for s in samples)
            print(f"    {variant.name:<28} {fmt_bytes(compressed):>10} {fmt_bytes(uncompressed):>13} "
                  f"{fmt_ms(stages[variant.name]):>16} {fmt_span_ms([s.initramfs_stage_ms for s in samples]):>13} "
                  f"{fmt_ms(to_init[variant.name]):>14}")
        c0, u0 = sizes[NODEINIT]
        for variant in variants[1:]:
            c1, u1 = sizes[variant.name]
            stage_ratio = fmt_ratio(ratio(stages[NODEINIT], stages[variant.name]))
            print(f"    ratio nodeinit / {variant.name}: initramfs stage {stage_ratio}, time to image init "
                  f"{fmt_ratio(ratio(to_init[NODEINIT], to_init[variant.name]))}, compressed {c0 / c1:.2f}, "
                  f"uncompressed {u0 / u1:.2f}")
            summary.append(f"    {nic:<16} nodeinit / {variant.name:<28} {stage_ratio}")
    print("\ninitramfs stage (the kernel's \"Run /init\" -> the image's init running), median ratios:")
    print("\n".join(summary))
    print(f"    notes: the busybox script carries the same modules as nodeinit but does no DHCP (fixed address), no "
          f"retries,\n    no module autodetection, and mounts NFSv{BUSYBOX_NFS_VERSION} as nodeinit does by default; "
          "dracut --no-hostonly carries every driver of the\n    kernel and mounts the NFS root read-only without an "
          "overlay; initramfs-tools (MODULES=netboot: every network driver)\n    mounts it over NFSv3 with klibc's "
          "nfsmount and overlayroot puts a tmpfs overlay on it, as nodeinit does.")


def report_debian(variants: list[Variant], results: dict[tuple[str, str], list[DebianBootSample]], boots: int,
                  nics: list[str]) -> None:
    print(f"\n== Debian 12 systemd image: {boots} boots of each initramfs on each NIC (the 'before' one on "
          f"{nics[0]} only) ==")
    print("    multi-user: systemd-analyze (kernel + userspace to the default target); NFS requests: the per-op counts "
          "in\n    /proc/self/mountstats once multi-user was reached (what the node's client sent the server)")
    for nic in nics:
        print(f"\n{nic}:")
        print(f"    {'initramfs':<30} {'initramfs stage':>16} {'range':>13} {'multi-user':>10} {'range':>11} "
              f"{'requests':>9} {'range':>12}  top ops (medians)")
        medians: dict[str, tuple[float | None, float | None, float | None]] = {}
        for variant in variants:
            samples = results.get((variant.name, nic), [])
            if not samples:
                continue
            stage = median(s.initramfs_stage_ms for s in samples)
            multi_user = median(s.multi_user_s for s in samples)
            requests = median(s.requests for s in samples)
            medians[variant.name] = (stage, multi_user, requests)
            ops: dict[str, float] = {}
            for op in {op for s in samples for op in s.ops}:
                value = median(s.ops.get(op, 0) for s in samples if s.requests is not None)
                if value:
                    ops[op] = value
            shown_requests = f"{requests:.0f}" if requests is not None else "n/a"
            requests_span = span(s.requests for s in samples)
            print(f"    {variant.name:<30} {fmt_ms(stage):>16} {fmt_span_ms([s.initramfs_stage_ms for s in samples]):>13} "
                  f"{fmt_s(multi_user):>10} {fmt_span_s([s.multi_user_s for s in samples]):>11} "
                  f"{shown_requests:>9} "
                  f"{f'[{requests_span[0]:.0f}-{requests_span[1]:.0f}]' if requests_span else '[n/a]':>12}  "
                  f"{format_ops(ops, 5)}; READ replies {fmt_mib(median(s.read_bytes for s in samples))}")
        for variant in variants:
            shown = sorted({s.root_mount for s in results.get((variant.name, nic), []) if s.root_mount})
            if shown:
                print(f"    root mount, {variant.name}: {'; '.join(shown)}")
        if NODEINIT in medians and INITRAMFS_TOOLS in medians:
            (s0, m0, r0), (s1, m1, r1) = medians[NODEINIT], medians[INITRAMFS_TOOLS]
            print(f"    ratio nodeinit / {INITRAMFS_TOOLS}: initramfs stage {fmt_ratio(ratio(s0, s1))}, "
                  f"multi-user {fmt_ratio(ratio(m0, m1))}, NFS requests {fmt_ratio(ratio(r0, r1))}")
        if NODEINIT in medians and NODEINIT_BEFORE in medians:
            (_, m0, r0), (_, mb, rb) = medians[NODEINIT], medians[NODEINIT_BEFORE]
            print(f"    nodeinit's NFS requests before -> after issue 15's root mount options: "
                  f"{f'{rb:.0f}' if rb is not None else 'n/a'} -> {f'{r0:.0f}' if r0 is not None else 'n/a'} "
                  f"(ratio {fmt_ratio(ratio(r0, rb))}); multi-user {fmt_s(mb).strip()} -> {fmt_s(m0).strip()}")
