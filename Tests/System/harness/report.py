"""Reading the test image's NODEINIT-TEST lines back from a console log."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from .images import MARK


@dataclass
class Mount:
    point: str
    fstype: str
    source: str
    options: list[str]


@dataclass
class ImageReport:
    """What the test image's /sbin/init printed (None when it never ran)."""

    lines: list[str] = field(default_factory=list)
    mounts: list[Mount] = field(default_factory=list)
    root_writable: bool | None = None
    boot_json: dict | None = None
    boot_json_error: str | None = None
    hostname: str | None = None
    interfaces: dict[str, str] = field(default_factory=dict)
    routes: list[str] = field(default_factory=list)  # `ip -4 route show` lines
    resolv: str | None = None
    uptime: float | None = None
    init_pid: int | None = None
    init_argv0: str | None = None
    done: bool = False

    def mount_at(self, point: str) -> Mount | None:
        found = [m for m in self.mounts if m.point == point]
        return found[-1] if found else None

    def mounts_of_type(self, *fstypes: str) -> list[Mount]:
        return [m for m in self.mounts if m.fstype in fstypes]


def parse_report(console: str) -> ImageReport | None:
    report = ImageReport()
    started = False
    for raw in console.splitlines():
        index = raw.find(MARK)
        if index < 0:
            continue
        line = raw[index + len(MARK):].strip()
        report.lines.append(line)
        word, _, rest = line.partition(" ")
        if word == "init-started":
            started = True
            for item in rest.split():
                key, _, value = item.partition("=")
                if key == "pid" and value.isdigit():
                    report.init_pid = int(value)
                elif key == "argv0":
                    report.init_argv0 = value
        elif word == "uptime":
            try:
                report.uptime = float(rest)
            except ValueError:
                pass
        elif word == "mount":
            parts = rest.split(" ")
            if len(parts) >= 4:
                report.mounts.append(Mount(parts[0], parts[1], parts[2], parts[3].split(",")))
        elif word == "root-writable":
            report.root_writable = rest == "yes"
        elif word == "boot-json":
            if rest != "missing":
                try:
                    report.boot_json = json.loads(rest)
                except json.JSONDecodeError as error:
                    report.boot_json_error = f"{error}: {rest[:200]}"
        elif word == "hostname":
            report.hostname = rest
        elif word == "iface":
            name, _, addr = rest.partition(" ")
            report.interfaces[name] = addr
        elif word == "route":
            report.routes.append(rest)
        elif word == "resolv":
            report.resolv = rest
        elif word == "done":
            report.done = True
    return report if started else None


def parse_boot_json(console: str) -> dict | None:
    """The boot.json document as printed by the test or demo image (None when absent)."""
    report = parse_report(console)
    if report is not None and report.boot_json is not None:
        return report.boot_json
    # The demo image prints it as one line: "boot.json: {...}".
    for line in console.splitlines():
        _, found, text = line.partition("boot.json: ")
        if found and text.strip().startswith("{"):
            try:
                return json.loads(text)
            except json.JSONDecodeError:
                continue
    return None
