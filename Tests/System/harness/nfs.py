"""A loopback NFS server: rpcbind + nfs-ganesha (VFS FSAL) bound to 127.0.0.1.

QEMU's user-mode network shows the host's loopback to the guest as 10.0.2.2, so a guest mounts
`10.0.2.2:<export path>`. Each export's NFSv4 pseudo path equals its real path, so the same
path works for NFSv3 and NFSv4.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass

from .procs import FileLock, HarnessError, die_with_parent, port_open, stop_pid, stop_process, wait_for_port

LOCK_PATH = "/run/lock/nodeinit-system-tests-nfs.lock"
NFS_PORT = 2049
RPCBIND_PORT = 111


@dataclass
class Export:
    path: str
    read_write: bool = False


def ganesha_config(exports: list[Export], recovery_dir: str, numeric_owners: bool = True) -> str:
    lines = [
        "NFS_CORE_PARAM {",
        "    Protocols = 3, 4;",
        f"    NFS_Port = {NFS_PORT};",
        "    Bind_addr = 127.0.0.1;",
        "    Enable_NLM = false;",
        "    Enable_RQUOTA = false;",
        "    Enable_UDP = false;",
        "}",
        "NFSV4 {",
        # No grace period: a server (re)started in the middle of a boot serves at once.
        "    Graceless = true;",
        f'    RecoveryRoot = "{recovery_dir}";',
        # Numeric owner strings ("0", not "root@localdomain"): an initramfs has no idmapper, and the kernel client
        # maps names it cannot resolve to 4294967294, which overlay copy-up would then bake into saved images.
        f"    Only_Numeric_Owners = {'true' if numeric_owners else 'false'};",
        "}",
    ]
    for number, export in enumerate(exports, start=1):
        lines += [
            "EXPORT {",
            f"    Export_Id = {number};",
            f'    Path = "{export.path}";',
            f'    Pseudo = "{export.path}";',
            f"    Access_Type = {'RW' if export.read_write else 'RO'};",
            "    Squash = No_Root_Squash;",
            "    Protocols = 3, 4;",
            "    SecType = sys;",
            # ganesha's metadata cache (MDCACHE) otherwise answers GETATTR from attributes up to 60 s old, so a
            # file edited on this host behind ganesha's back keeps its old size and change attribute for the
            # clients, which then keep their cached pages: statelite `ro` entries could not show such an edit live.
            # 0: every GETATTR asks the file system. Measured: an in-place edit reached a statelite node at once with
            # 0, after 60 s without (Tests/System/test_statelite.py).
            "    Attr_Expiration_Time = 0;",
            "    FSAL { Name = VFS; }",
            "}",
        ]
    return "\n".join(lines) + "\n"


class NFSServer:
    """rpcbind + ganesha.nfsd in the foreground, owned by this object and stopped by pid.

    Use as a context manager; the machine-wide lock is held from start to stop so parallel
    sessions queue instead of fighting over port 2049. `stop()` and `start()` may be called
    again while the lock is held (the "server down at power-on" scenario).
    """

    def __init__(self, exports: list[Export], lock_timeout: float = 1800.0):
        self.exports = exports
        self.lock = FileLock(LOCK_PATH, lock_timeout)
        self.workdir = tempfile.mkdtemp(prefix="vmharness-nfs-")
        self.log_path = os.path.join(self.workdir, "ganesha.log")
        self.conf_path = os.path.join(self.workdir, "ganesha.conf")
        self.pid_path = os.path.join(self.workdir, "ganesha.pid")
        self.rpcbind: subprocess.Popen | None = None
        self.ganesha: subprocess.Popen | None = None
        self.locked = False
        # False: ganesha's default, owners sent as user@domain names (issue 13's owner test restarts it so).
        self.numeric_owners = True

    def __enter__(self) -> "NFSServer":
        self.lock.__enter__()
        self.locked = True
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.stop()
            self.stop_rpcbind()
        finally:
            if self.locked:
                self.lock.__exit__()
                self.locked = False
            shutil.rmtree(self.workdir, ignore_errors=True)

    def start_rpcbind(self) -> None:
        if self.rpcbind is not None and self.rpcbind.poll() is None:
            return
        if port_open("127.0.0.1", RPCBIND_PORT):
            # Someone else's rpcbind serves the machine: ganesha registers with it just the same.
            return
        os.makedirs("/run/rpcbind", exist_ok=True)
        self.rpcbind = subprocess.Popen(
            ["rpcbind", "-f", "-w"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL, preexec_fn=die_with_parent)
        wait_for_port("127.0.0.1", RPCBIND_PORT, 10, self.rpcbind, "rpcbind")

    def stop_rpcbind(self) -> None:
        stop_process(self.rpcbind)
        self.rpcbind = None

    def start(self) -> None:
        if not self.locked:
            raise HarnessError("NFSServer.start() outside its context manager")
        if self.ganesha is not None and self.ganesha.poll() is None:
            return
        for export in self.exports:
            if not os.path.isdir(export.path):
                raise HarnessError(f"export {export.path} is not a directory")
        if port_open("127.0.0.1", NFS_PORT):
            raise HarnessError(f"127.0.0.1:{NFS_PORT} is already in use by a server this harness did not start")
        self.start_rpcbind()
        recovery = os.path.join(self.workdir, "recovery")
        os.makedirs(recovery, exist_ok=True)
        with open(self.conf_path, "w") as f:
            f.write(ganesha_config(self.exports, recovery, self.numeric_owners))
        self.ganesha = subprocess.Popen(
            ["ganesha.nfsd", "-F", "-f", self.conf_path, "-L", self.log_path, "-p", self.pid_path],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent)
        try:
            wait_for_port("127.0.0.1", NFS_PORT, 30, self.ganesha, "ganesha.nfsd")
        except HarnessError as error:
            raise HarnessError(f"{error}; log tail:\n{self.log_tail()}") from None

    def stop(self) -> None:
        stop_process(self.ganesha, grace=10)
        self.ganesha = None
        # ganesha may have forked helpers recorded in its pid file: stop that pid too if alive.
        try:
            with open(self.pid_path) as f:
                pid = int(f.read().strip() or "0")
            if pid > 1:
                stop_pid(pid)
        except (OSError, ValueError):
            pass
        deadline = time.monotonic() + 10
        while port_open("127.0.0.1", NFS_PORT) and time.monotonic() < deadline:
            time.sleep(0.2)

    def log_tail(self, lines: int = 30) -> str:
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no ganesha log)"
