"""Booting a kernel + initramfs in qemu-system-x86_64 (TCG) with the serial console captured.

The serial console is QEMU's stdio: everything the guest prints is appended to a log file (readable
live, e.g. `tail -f`) and to an in-memory buffer that `wait_for` searches; `send` types into the
console. The guest reaches the host's 127.0.0.1 as 10.0.2.2 (user-mode networking).
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from dataclasses import dataclass, field

from .procs import HarnessError, die_with_parent, stop_process

GUEST_HOST_ADDR = "10.0.2.2"  # the host's loopback as QEMU's user-mode network shows it
GUEST_DHCP_ADDR = "10.0.2.15"  # what QEMU's built-in DHCP server hands out first
NICS = ("virtio-net-pci", "e1000")  # the NIC models the harness boots (VMConfig.nic)
RUN_INIT = re.compile(r"^\[\s*(\d+\.\d+)\] Run /init as init process", re.MULTILINE)


def run_init_ms(console: str) -> float | None:
    """The kernel's printk stamp of "Run /init as init process": when it hands over to the initramfs (ms since
    kernel start)."""
    match = RUN_INIT.search(console)
    return float(match.group(1)) * 1000 if match else None


@dataclass
class VMConfig:
    kernel: str
    initrd: str
    append: str
    nic: str = "virtio-net-pci"  # or "e1000"
    memory_mb: int = 1024
    cpus: int = 1
    # QEMU CPU model (`-cpu`); None keeps QEMU's default (qemu64, which offers no RDRAND under TCG).
    cpu_model: str | None = None
    mac: str = "52:54:00:12:34:56"
    dhcp_hostname: str | None = None  # the host name QEMU's DHCP server hands out
    # (host port, guest port): QEMU hostfwd from 127.0.0.1:<host port> to the guest's TCP port (the guest
    # sees these connections come from 10.0.2.2, the gateway, which is also the NFS server's address).
    host_forwards: list[tuple[int, int]] = field(default_factory=list)
    extra_args: list[str] = field(default_factory=list)


class VM:
    """One QEMU process. Use as a context manager: the process is killed by pid on exit."""

    def __init__(self, config: VMConfig, log_path: str, echo=None):
        """echo: an optional binary stream (e.g. sys.stdout.buffer) that also gets the console live."""
        self.config = config
        self.log_path = log_path
        self.echo = echo
        self.proc: subprocess.Popen | None = None
        self._buffer = bytearray()
        self._cond = threading.Condition()
        self._reader: threading.Thread | None = None
        self.started_at = 0.0
        self.ended_at: float | None = None

    def command(self) -> list[str]:
        c = self.config
        return [
            "qemu-system-x86_64",
            "-accel", "tcg",
            "-m", str(c.memory_mb),
            "-smp", str(c.cpus),
            *(["-cpu", c.cpu_model] if c.cpu_model else []),
            "-nographic", "-monitor", "none", "-serial", "stdio",
            "-no-reboot",
            "-kernel", c.kernel,
            "-initrd", c.initrd,
            "-append", c.append,
            "-netdev", "user,id=n0" + (f",hostname={c.dhcp_hostname}" if c.dhcp_hostname else "")
            + "".join(f",hostfwd=tcp:127.0.0.1:{host}-:{guest}" for host, guest in c.host_forwards),
            "-device", f"{c.nic},netdev=n0,mac={c.mac}",
            *c.extra_args,
        ]

    def __enter__(self) -> "VM":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.kill()

    def start(self) -> None:
        for path in (self.config.kernel, self.config.initrd):
            if not os.path.isfile(path):
                raise HarnessError(f"{path} does not exist (run 'make initramfs')")
        os.makedirs(os.path.dirname(os.path.abspath(self.log_path)), exist_ok=True)
        self._log = open(self.log_path, "wb", buffering=0)
        self._log.write(("# " + " ".join(self.command()) + "\n").encode())
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(self.command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            self._log.write(chunk)
            if self.echo is not None:
                try:
                    self.echo.write(chunk)
                    self.echo.flush()
                except (OSError, ValueError):
                    self.echo = None
            with self._cond:
                self._buffer.extend(chunk)
                self._cond.notify_all()
        with self._cond:
            self.ended_at = time.monotonic()
            self._cond.notify_all()

    @property
    def output(self) -> str:
        with self._cond:
            return self._buffer.decode(errors="replace").replace("\r\n", "\n")

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_for(self, pattern: str, timeout: float, start: int = 0) -> re.Match:
        """Waits until `pattern` (a regex) appears in the console output after byte offset `start`."""
        regex = re.compile(pattern.encode(), re.MULTILINE)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                match = regex.search(self._buffer, start)
                if match:
                    return match
                if self.ended_at is not None:
                    raise HarnessError(f"QEMU ended before {pattern!r} appeared; console log: {self.log_path}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise HarnessError(f"{pattern!r} did not appear within {timeout:.0f} s; "
                                       f"console log: {self.log_path}")
                self._cond.wait(min(remaining, 1.0))

    def output_bytes(self, start: int, end: int) -> bytes:
        with self._cond:
            return bytes(self._buffer[start:end])

    def position(self) -> int:
        with self._cond:
            return len(self._buffer)

    def send(self, text: str) -> None:
        """Types text into the serial console."""
        if self.proc is None or self.proc.stdin is None:
            raise HarnessError("QEMU is not running")
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def wait_exit(self, timeout: float) -> int:
        """Waits for QEMU to end (guest poweroff or reboot with -no-reboot); kills it on timeout."""
        if self.proc is None:
            raise HarnessError("QEMU was never started")
        try:
            code = self.proc.wait(timeout=max(0.0, timeout))
        except subprocess.TimeoutExpired:
            self.kill()
            raise HarnessError(f"QEMU still running after {timeout:.0f} s; killed; console log: {self.log_path}")
        if self._reader is not None:
            self._reader.join(timeout=5)
        return code

    def kill(self) -> None:
        if self.proc is not None:
            if self.proc.stdin is not None:
                try:
                    self.proc.stdin.close()
                except OSError:
                    pass
            stop_process(self.proc, grace=3)
        if self._reader is not None:
            self._reader.join(timeout=5)
        if getattr(self, "_log", None) is not None:
            self._log.close()
            self._log = None

    def elapsed(self) -> float:
        end = self.ended_at if self.ended_at is not None else time.monotonic()
        return end - self.started_at
