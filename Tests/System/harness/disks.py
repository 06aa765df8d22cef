"""Checks on the ext4 disks the system tests give their nodes."""

from __future__ import annotations

import subprocess


def assert_clean(disk: str) -> None:
    """e2fsck -fn finds nothing to do (no journal to recover, no error) and the superblock says clean."""
    header = subprocess.run(["dumpe2fs", "-h", disk], capture_output=True, text=True, check=True).stdout
    features = next((line for line in header.splitlines() if line.startswith("Filesystem features:")), "")
    state = next((line for line in header.splitlines() if line.startswith("Filesystem state:")), "")
    assert "needs_recovery" not in features, f"{disk} needs journal recovery: {features}"
    assert state.split(":", 1)[1].strip() == "clean", f"{disk}: {state}"
    check = subprocess.run(["e2fsck", "-fn", disk], capture_output=True, text=True)
    assert check.returncode == 0, f"e2fsck -fn {disk}: rc {check.returncode}\n{check.stdout}{check.stderr}"
