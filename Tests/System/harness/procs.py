"""Starting and stopping helper processes by pid, and a cross-session file lock."""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import signal
import socket
import subprocess
import time


class HarnessError(Exception):
    pass


_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Popen preexec_fn: the child gets SIGKILL when the harness dies (even by SIGKILL), so a killed
    test session leaves no QEMU, ganesha or rpcbind behind."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def stop_process(proc: subprocess.Popen | None, grace: float = 5.0) -> None:
    """SIGTERM, wait up to `grace` seconds, then SIGKILL; always reaps. Only this process, by pid."""
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.terminate()
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass


def stop_pid(pid: int, grace: float = 5.0) -> None:
    """Like stop_process for a pid we did not spawn through Popen (e.g. read from a pid file)."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def port_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def wait_for_port(host: str, port: int, timeout: float, proc: subprocess.Popen | None = None,
                  what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(host, port):
            return
        if proc is not None and proc.poll() is not None:
            raise HarnessError(f"{what or proc.args[0]} exited with status {proc.returncode} "
                               f"before listening on {host}:{port}")
        time.sleep(0.2)
    raise HarnessError(f"{what or 'server'} did not listen on {host}:{port} within {timeout:.0f} s")


class FileLock:
    """An exclusive flock on a well-known path, shared by every harness session on the machine.

    Only one ganesha can bind 127.0.0.1:2049, so sessions (possibly started by different
    worktrees) take turns for the whole time their server runs.
    """

    def __init__(self, path: str, timeout: float):
        self.path = path
        self.timeout = timeout
        self.fd: int | None = None

    def __enter__(self) -> "FileLock":
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as error:
                if error.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() > deadline:
                    holder = self._holder()
                    os.close(self.fd)
                    self.fd = None
                    raise HarnessError(f"lock {self.path} still held after {self.timeout:.0f} s ({holder})")
                time.sleep(1)
        os.ftruncate(self.fd, 0)
        os.write(self.fd, f"pid {os.getpid()} cwd {os.getcwd()}\n".encode())
        return self

    def _holder(self) -> str:
        try:
            with open(self.path) as f:
                return f.read().strip() or "holder unknown"
        except OSError:
            return "holder unknown"

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
