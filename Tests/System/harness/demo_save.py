"""`make demo`, second part: node save. A node boots a copy of the demo image, changes some files (one deleted),
and waits; the host pulls its changes through the agent the init started, prints the summary and applies the layer
to a copy of the image. Everything lands in build/demo-save (replaced at the next run) for a look afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

from . import images, nfs, paths
from .nodesave import AGENT_PORT, D, free_port, make_nodesave_image, nodeinit_binary
from .procs import HarnessError
from .qemu import GUEST_HOST_ADDR, VM, VMConfig

DEMO_BOUND = 300  # seconds


def run_demo_save(nic: str = "virtio-net-pci") -> int:
    image_paths = images.build_images(paths.images_dir())
    work = os.path.join(paths.BUILD, "demo-save")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    image, new_image = os.path.join(work, "image"), os.path.join(work, "new-image")
    layer, summary_path = os.path.join(work, "layer.tar"), os.path.join(work, "summary.json")
    make_nodesave_image(image_paths["demo-image"], image)
    port = free_port()
    append = (f"console=ttyS0 panic=1 ip=dhcp root=nfs:{GUEST_HOST_ADDR}:{image} rd.retry=60 "
              f"nodesave.phase=change")
    log = os.path.join(paths.logs_dir(), "demo-save.log")
    say = lambda text: print(f"\n### demo-save: {text}", flush=True)  # noqa: E731
    say(f"exporting a copy of the demo image, {image}, over loopback NFS")
    with nfs.NFSServer([nfs.Export(image)]):
        say(f"booting a node that changes files under {D}; the agent's port {AGENT_PORT} is forwarded "
            f"from 127.0.0.1:{port} (QEMU hostfwd)")
        config = VMConfig(kernel=paths.kernel(), initrd=paths.initramfs(), append=append, nic=nic,
                          dhcp_hostname="demo-save-node", host_forwards=[(port, AGENT_PORT)])
        with VM(config, log, echo=sys.stdout.buffer) as vm:
            vm.wait_for(r"^NODESAVE: changes-done", timeout=DEMO_BOUND)
            command = [nodeinit_binary(), "pull", f"127.0.0.1:{port}", "-o", layer, "--summary", summary_path]
            say("on the host: " + " ".join(command))
            start = time.monotonic()
            pull = subprocess.run(command, timeout=120)
            seconds = time.monotonic() - start
            if pull.returncode != 0:
                raise HarnessError(f"pull failed (status {pull.returncode}); console log: {log}")
            say(f"pulled {os.path.getsize(layer)} bytes in {seconds:.2f} s; stopping the node")
    with open(summary_path) as f:
        summary = json.load(f)
    say("change summary (from the agent):")
    for kind in ("regularFiles", "directories", "symlinks", "whiteouts", "opaqueDirectories"):
        tally = summary.get(kind, {})
        print(f"    {kind:<18} {tally.get('count', 0):>4} entries {tally.get('bytes', 0):>8} bytes")
    print(f"    {'excluded':<18} {summary.get('excluded', 0):>4}")
    listing = subprocess.run(["tar", "-tvf", layer], capture_output=True, text=True, check=True).stdout
    say("layer contents (tar -tvf):")
    print("    " + listing.strip().replace("\n", "\n    "))
    subprocess.run(["cp", "-a", image, new_image], check=True)
    command = [nodeinit_binary(), "apply", layer, new_image]
    say("on the host: " + " ".join(command))
    subprocess.run(command, check=True, timeout=120)
    base = D.lstrip("/")
    for name in ("modify.txt", "delete.txt", "created.txt"):
        before = read_or_absent(os.path.join(image, base, name))
        after = read_or_absent(os.path.join(new_image, base, name))
        print(f"    {D}/{name:<12} image: {before:<22} new image: {after}")
    say(f"the original image is unchanged; the saved one is {new_image}")
    return 0


def read_or_absent(path: str) -> str:
    try:
        with open(path) as f:
            return repr(f.read())
    except FileNotFoundError:
        return "(absent)"
