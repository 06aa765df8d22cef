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

from . import paths
from .procs import HarnessError
from .qemu import VM

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
