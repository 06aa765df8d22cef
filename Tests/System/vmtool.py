#!/usr/bin/env python3
"""Command-line entry for the system-test harness (used by the Makefile).

  vmtool.py images                 build the busybox images under build/images
  vmtool.py selftest-initramfs     build the harness's busybox-only initramfs (no nodeinit)
  vmtool.py demo [--nic e1000]     serve the demo image over loopback NFS and boot a node, live
  vmtool.py demo-save [--nic ...]  a node changes files; the host pulls the layer and applies it to a copy
  vmtool.py bench [--boots N]      boot-time benchmark (make bench-boot): both NICs, the test and Debian images
  vmtool.py storm [--nodes N]      N Debian nodes booting at once (make bench-storm)
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import images, paths  # noqa: E402
from harness.procs import HarnessError  # noqa: E402
from harness.qemu import NICS  # noqa: E402
from harness.bench import run_bench  # noqa: E402
from harness.demo import run_demo  # noqa: E402
from harness.demo_save import run_demo_save  # noqa: E402
from harness.selftest import build_selftest_initramfs  # noqa: E402
from harness.storm_bench import run_storm_bench  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("images", help="build the exported test and demo images")
    sub.add_parser("selftest-initramfs", help="build the busybox-only initramfs that checks the harness")
    demo = sub.add_parser("demo", help="boot a demo node in QEMU from a loopback NFS server")
    demo.add_argument("--nic", default="virtio-net-pci", help="virtio-net-pci (default) or e1000")
    demo_save = sub.add_parser("demo-save", help="node save: change files on a node, pull and apply the layer")
    demo_save.add_argument("--nic", default="virtio-net-pci", help="virtio-net-pci (default) or e1000")
    bench = sub.add_parser("bench", help="boot-time benchmark")
    bench.add_argument("--boots", type=int, default=5, help="boots of each initramfs on each NIC (default 5)")
    bench.add_argument("--nic", action="append", choices=NICS, default=None,
                       help="a NIC model to boot on (repeatable; default: every one, virtio-net-pci and e1000)")
    bench.add_argument("--dracut", action="store_true",
                       help="add the dracut peer on the test image (off by default: 2 x N more boots, and its chroot "
                       "takes minutes once)")
    bench.add_argument("--no-dracut", action="store_true", help="no dracut peer (the default)")
    bench.add_argument("--no-busybox", action="store_true", help="skip the hand-written busybox script")
    bench.add_argument("--no-initramfs-tools", action="store_true",
                       help="skip the initramfs-tools + overlayroot peer (its chroot takes minutes once)")
    bench.add_argument("--no-test-image", action="store_true", help="skip the test-image boots (Debian only)")
    bench.add_argument("--no-debian", action="store_true", help="skip the Debian 12 systemd image boots")
    bench.add_argument("--debian-boots", type=int, default=None,
                       help="boots of each initramfs on the Debian image (default --boots; 35-90 s each under TCG)")
    bench.add_argument("--debian-nic", action="append", choices=NICS, default=None,
                       help="a NIC model for the Debian boots (repeatable; default: those of --nic)")
    bench.add_argument("--no-before", action="store_true",
                       help="skip nodeinit's Debian boots with the root mount options of before issue 15")
    bench.add_argument("--cpu", default=None,
                       help="QEMU -cpu model for every variant (e.g. max: RDRAND, as on hardware); default QEMU's")
    storm = sub.add_parser("storm", help="N Debian nodes boot at once: time to multi-user, NFS requests per node")
    storm.add_argument("--nodes", type=int, default=3)
    storm.add_argument("--no-initramfs-tools", action="store_true", help="skip the initramfs-tools storm")
    storm.add_argument("--cpu", default=None, help="QEMU -cpu model; default QEMU's")
    args = parser.parse_args()
    try:
        if args.command == "images":
            for name, path in images.build_images(paths.images_dir()).items():
                print(f"vmtool: image {name}: {path}")
        elif args.command == "selftest-initramfs":
            print(f"vmtool: {build_selftest_initramfs()}")
        elif args.command == "demo":
            return run_demo(args.nic)
        elif args.command == "demo-save":
            return run_demo_save(args.nic)
        elif args.command == "bench":
            if args.boots < 1:
                parser.error("--boots must be at least 1")
            if args.debian_boots is not None and args.debian_boots < 0:
                parser.error("--debian-boots must be at least 0")
            return run_bench(args.boots, with_dracut=args.dracut and not args.no_dracut,
                             with_initramfs_tools=not args.no_initramfs_tools, cpu_model=args.cpu, nics=args.nic,
                             with_busybox=not args.no_busybox, with_test_image=not args.no_test_image,
                             with_debian=not args.no_debian, debian_boots=args.debian_boots,
                             debian_nics=args.debian_nic, with_before=not args.no_before)
        elif args.command == "storm":
            if args.nodes < 1:
                parser.error("--nodes must be at least 1")
            return run_storm_bench(args.nodes, with_initramfs_tools=not args.no_initramfs_tools, cpu_model=args.cpu)
    except HarnessError as error:
        print(f"vmtool: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
