"""The Debian 12 systemd image in the system tests: built once (scripts/build-debian-image.sh, debootstrap, cached in
build/images/debian-12) and driven on its serial console, where root is logged in by agetty.

`DebianConsole.run(command)` types a command and returns its output and exit status: the command is followed by
`printf '@@%s %d@@\\n' END $?`, whose typed echo does not match the marker it prints, so the echo of the line is
never taken for its end.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field

from . import paths
from .procs import HarnessError
from .qemu import VM, run_init_ms

PROMPT = r"root@[^\s:]*:[^\s]*# "
MULTI_USER_BOUND = 300  # seconds of wall time from QEMU start to a logged-in multi-user system (TCG, busy machine)


def debian_image() -> str:
    """build/images/debian-12 (NODEINIT_DEBIAN_IMAGE overrides), built on first use."""
    root = os.environ.get("NODEINIT_DEBIAN_IMAGE") or os.path.join(paths.images_dir(), "debian-12")
    result = subprocess.run([os.path.join(paths.REPO, "scripts", "build-debian-image.sh"), root],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise HarnessError(f"scripts/build-debian-image.sh failed: {result.stderr.strip()[-2000:]}")
    return root


# What a Debian node needs on the command line beside the root: the kernel's interface names (the image's udev
# would otherwise try to rename the interface the initramfs configured).
DEBIAN_APPEND = "net.ifnames=0 systemd.show_status=false"


class DebianConsole:
    def __init__(self, vm: VM):
        self.vm = vm
        self.count = 0

    def login(self, timeout: float = MULTI_USER_BOUND) -> None:
        """Waits for agetty's autologin shell, then makes the shell quiet and pager-free."""
        self.vm.wait_for(PROMPT, timeout=timeout)
        self.run("export SYSTEMD_PAGER= SYSTEMD_COLORS=0 TERM=dumb; stty -echo cols 250", timeout=30)

    def run(self, command: str, timeout: float = 120, check: bool = True) -> tuple[int, str]:
        self.count += 1
        start = self.vm.position()
        self.vm.send(f"{command}; printf '@@%s-{self.count} %d@@\\n' END $?\n")
        match = self.vm.wait_for(rf"@@END-{self.count} (\d+)@@", timeout=timeout, start=start)
        raw = self.vm.output_bytes(start, match.start())
        text = raw.decode(errors="replace").replace("\r\n", "\n")
        # bash's bracketed-paste switches and the prompt go; the typed line's echo (until `stty -echo` took
        # effect) too.
        text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)
        lines = [re.sub("^(" + PROMPT + ")+", "", line) for line in text.split("\n") if "@@%s-" not in line]
        status = int(match.group(1))
        output = "\n".join(lines).strip("\n")
        if check and status != 0:
            raise HarnessError(f"{command!r} exited {status}: {output[-1500:]}; console log: {self.vm.log_path}")
        return status, output

    def multi_user(self) -> tuple[str, str]:
        """`systemctl is-system-running --wait` (running or degraded) and the failed units, one per line."""
        _, state = self.run("systemctl is-system-running --wait", timeout=MULTI_USER_BOUND, check=False)
        _, failed = self.run("systemctl --failed --no-legend --plain", check=False)
        return state.strip().splitlines()[-1] if state.strip() else "", failed.strip()


# The NFS per-op counts of every NFS mount, summed (`total N`, `read_bytes N` (the READ replies' bytes, the per-op
# line's fifth number) then `OP N` lines): the requests this node's client sent, the root's and those of any other
# NFS mount of the boot.
COUNT_REQUESTS = (
    "awk '/^device /{on=($8 ~ /^nfs/)} on && /^[ \\t]*[A-Z_0-9]+: [0-9]/{sub(\":\",\"\",$1); n[$1]+=$2; t+=$2; "
    "if ($1 == \"READ\") rb+=$6} "
    "END{print \"total\", t; print \"read_bytes\", rb+0; for (k in n) if (n[k] > 0) print k, n[k]}' /proc/self/mountstats")
# The first NFS mount (the image root under the overlay): type and options as the kernel shows them.
ROOT_NFS_MOUNT = "awk '$3 ~ /^nfs/ {print $3, $4; exit}' /proc/mounts"


def seconds(text: str) -> float | None:
    """systemd's time spans: `1min 2.345s`, `950ms`, `12.1s`."""
    total, found = 0.0, False
    for value, unit in re.findall(r"(\d+(?:\.\d+)?)(min|ms|s)\b", text):
        found = True
        total += float(value) * {"min": 60.0, "s": 1.0, "ms": 0.001}[unit]
    return total if found else None


@dataclass
class DebianBootSample:
    """One Debian boot, measured in the booted system once it reached its default target."""

    multi_user_s: float | None  # kernel start -> multi-user (systemd-analyze: kernel + userspace)
    requests: int | None  # NFS requests the client sent (every NFS mount's per-op counts, summed)
    ops: dict[str, int] = field(default_factory=dict)  # the per-op counts behind `requests`
    read_bytes: int | None = None  # the bytes the READ replies carried
    state: str = ""  # `systemctl is-system-running --wait`
    run_init_ms: float | None = None  # the kernel's "Run /init" printk stamp
    image_init_ms: float | None = None  # kernel start -> the image's systemd started (systemd-analyze's "kernel")
    root_mount: str = ""  # the NFS root's type and options

    @property
    def initramfs_stage_ms(self) -> float | None:
        """The kernel's "Run /init" to the image's init running."""
        if self.run_init_ms is None or self.image_init_ms is None:
            return None
        return self.image_init_ms - self.run_init_ms

    def top_ops(self, count: int = 3) -> str:
        return format_ops(self.ops, count)


def format_ops(ops: dict[str, float], count: int = 3) -> str:
    top = sorted(((v, k) for k, v in ops.items()), key=lambda item: (-item[0], item[1]))[:count]
    return ", ".join(f"{k} {v:.0f}" for v, k in top)


def measure_boot(vm: VM, timeout: float = MULTI_USER_BOUND * 2) -> DebianBootSample:
    """Logs in on the console of a booting Debian node, waits for its default target (graphical.target on Debian:
    reached once multi-user.target is) and reads `systemd-analyze time` and the NFS client's per-op counts."""
    console = DebianConsole(vm)
    console.login(timeout=timeout)
    state, _ = console.multi_user()
    _, analyze = console.run("systemd-analyze time", check=False)
    kernel = re.search(r"in (.+?) \(kernel\)", analyze)
    userspace = re.search(r"(?:multi-user|graphical)\.target reached after (.+?) in userspace", analyze)
    kernel_s = seconds(kernel.group(1)) if kernel else None
    multi_user = None
    if kernel_s is not None and userspace:
        u = seconds(userspace.group(1))
        multi_user = kernel_s + u if u is not None else None
    _, counted = console.run(COUNT_REQUESTS, check=False)
    counts = dict(line.split(" ", 1) for line in counted.splitlines() if " " in line)
    total = int(counts.pop("total")) if counts.get("total", "").isdigit() else None
    read_bytes = counts.pop("read_bytes", "")
    ops = {k: int(v) for k, v in counts.items() if v.isdigit()}
    _, root_mount = console.run(ROOT_NFS_MOUNT, check=False)
    return DebianBootSample(
        multi_user_s=multi_user, requests=total, ops=ops, read_bytes=int(read_bytes) if read_bytes.isdigit() else None,
        state=state, run_init_ms=run_init_ms(vm.output),
        image_init_ms=kernel_s * 1000 if kernel_s is not None else None, root_mount=root_mount.strip())
