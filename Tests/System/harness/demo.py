"""`make demo`: serve the demo image from a loopback NFS server and boot one node in QEMU, live."""

from __future__ import annotations

import os
import sys

from . import images, nfs, paths
from .qemu import GUEST_HOST_ADDR, VM, VMConfig
from .report import parse_boot_json

DEMO_BOUND = 300  # seconds


def run_demo(nic: str = "virtio-net-pci") -> int:
    image_paths = images.build_images(paths.images_dir())
    demo_image = image_paths["demo-image"]
    append = f"console=ttyS0 panic=1 ip=dhcp root=nfs:{GUEST_HOST_ADDR}:{demo_image} rd.retry=60"
    log = os.path.join(paths.logs_dir(), "demo.log")
    say = lambda text: print(f"\n### demo: {text}", flush=True)  # noqa: E731
    say(f"starting rpcbind + nfs-ganesha on 127.0.0.1, exporting {demo_image} read-only")
    with nfs.NFSServer([nfs.Export(demo_image)]) as _server:
        say(f"booting {paths.kernel()} with {paths.initramfs()} in QEMU (TCG, {nic})")
        say(f"kernel command line: {append}")
        config = VMConfig(kernel=paths.kernel(), initrd=paths.initramfs(), append=append, nic=nic,
                          dhcp_hostname="demo-node")
        with VM(config, log, echo=sys.stdout.buffer) as vm:
            code = vm.wait_exit(DEMO_BOUND)
            output = vm.output
        say(f"QEMU ended (status {code}) after {vm.elapsed():.1f} s wall time; console log: {log}")
        say("stopping nfs-ganesha and rpcbind")
    document = parse_boot_json(output)
    if document is None:
        say("the node did not reach the demo image's init (no boot.json on the console)")
        return 1
    say("boot phases recorded by nodeinit (guest time since kernel start):")
    print(f"    {'nodeinit /init started':<28} {document.get('init_start_ms', '?'):>8} ms")
    for phase in document.get("phases", []):
        status = "" if phase.get("ok", True) else "  (failed)"
        print(f"    {phase.get('name', '?'):<28} {phase.get('duration_ms', '?'):>8} ms{status}")
    print(f"    {'exec of the image init':<28} {document.get('init_exec_ms', '?'):>8} ms")
    return 0
