"""Node save in QEMU (issue 5): the image a saving node boots, and the host-side nodeinit.

Shared by Tests/System/test_node_save.py and `make demo` (vmtool.py demo-save).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess

from . import paths

MARK = "NODESAVE:"
AGENT_PORT = 7070  # the agent's default port (nodeinit.agent=)
D = "/srv/nodesave"

# The node-save image's /sbin/init; `nodesave.phase=change` on the command line makes the changes and waits,
# `nodesave.phase=check` reports what the node sees and powers off.
NODESAVE_INIT = r"""#!/bin/sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
M="NODESAVE:"
[ -d /proc/self ] || mount -t proc proc /proc
phase=none
for word in $(cat /proc/cmdline); do
    case "$word" in nodesave.phase=*) phase=${word#nodesave.phase=} ;; esac
done
echo "$M init phase=$phase pid=$$"
D=/srv/nodesave
if [ "$phase" = change ]; then
    echo "$M create $D/created.txt"; echo "created on the node" > $D/created.txt
    echo "$M modify $D/modify.txt"; echo "modified on the node" > $D/modify.txt
    echo "$M delete $D/delete.txt"; rm $D/delete.txt
    echo "$M replace $D/opaque (rm -rf, mkdir), chmod 0750 $D/mode.sh, setcap, mkdir $D/newdir, symlink $D/link"
    rm -rf $D/opaque && mkdir $D/opaque && echo "fresh" > $D/opaque/fresh.txt
    chmod 0750 $D/mode.sh
    setcap cap_net_raw+ep $D/capfile && echo "$M setcap $(getcap $D/capfile)"
    mkdir $D/newdir
    ln -s created.txt $D/link
    sync
    for pid in $(pidof nodeinit); do echo "$M agent pid=$pid exe=$(readlink /proc/$pid/exe) root=$(readlink /proc/$pid/root) ppid=$(cut -d' ' -f4 /proc/$pid/stat)"; done
    # The agent listens once the Swift runtime has its random seed (the kernel's CRNG, about 1 s into the booted
    # system under TCG): wait (at most 60 s) for its socket, port 7070 (1B9E) in state LISTEN (0A), so the host's
    # pull does not race it.
    tries=0
    while [ "$tries" -lt 120 ] && ! grep -q ':1B9E [0-9A-F:]* 0A' /proc/net/tcp /proc/net/tcp6 2>/dev/null; do
        sleep 0.5
        tries=$((tries + 1))
    done
    echo "$M agent-listening polls=$tries"
    [ -f /run/nodeinit/agent.log ] && sed "s/^/$M agent-log /" /run/nodeinit/agent.log
    echo "$M changes-done"
    while true; do sleep 3600; done
fi
find $D | sort | while read -r p; do
    if [ -L "$p" ]; then
        echo "$M entry l $p $(readlink "$p")"
    elif [ -d "$p" ]; then
        echo "$M entry d $p $(stat -c '%a %u:%g' "$p")"
    else
        echo "$M entry f $p $(stat -c '%a %u:%g' "$p") $(tr '\n' '|' < "$p")"
    fi
done
echo "$M done"
sync
poweroff -f
"""

# What the change phase starts from (path under D, mode, content; content None for a directory).
SEED = [
    ("modify.txt", 0o644, "original\n"),
    ("delete.txt", 0o644, "doomed\n"),
    ("keep.txt", 0o644, "untouched\n"),
    ("mode.sh", 0o644, "#!/bin/sh\n"),
    ("capfile", 0o755, "capability holder\n"),
    ("opaque", 0o755, None),
    ("opaque/old1.txt", 0o644, "old one\n"),
    ("opaque/sub", 0o755, None),
    ("opaque/sub/old2.txt", 0o644, "old two\n"),
]

def scratch_images_dir() -> str:
    """An exported directory for per-test image copies (made under it while the NFS server runs)."""
    path = os.path.join(paths.images_dir(), "scratch")
    os.makedirs(path, exist_ok=True)
    return path


def nodeinit_binary() -> str:
    """The host-side nodeinit: NODEINIT_BINARY, else the static build (runs on the host too)."""
    path = os.environ.get("NODEINIT_BINARY") or os.path.join(paths.BUILD, "nodeinit")
    assert os.access(path, os.X_OK), f"{path} is missing (run 'make static')"
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def copy_shared_program(program: str, root: str) -> None:
    """Copies a dynamically linked host program and the libraries ldd names into the image (same paths)."""
    shutil.copy2(program, os.path.join(root, "usr/sbin", os.path.basename(program)))
    listing = subprocess.run(["ldd", program], capture_output=True, text=True, check=True).stdout
    for line in listing.splitlines():
        words = line.split()
        library = words[2] if "=>" in words and len(words) > 2 else words[0] if words else ""
        if not library.startswith("/"):
            continue
        target = os.path.join(root, library.lstrip("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.realpath(library), target)


def make_nodesave_image(base_image: str, root: str) -> None:
    subprocess.run(["cp", "-a", base_image, root], check=True)
    with open(os.path.join(root, "sbin/init"), "w") as f:
        f.write(NODESAVE_INIT)
    os.chmod(os.path.join(root, "sbin/init"), 0o755)
    # busybox has neither setcap nor setfattr: the host's setcap/getcap (libcap2-bin) come with their libraries.
    for program in ("/usr/sbin/setcap", "/usr/sbin/getcap"):
        copy_shared_program(program, root)
    base = os.path.join(root, D.lstrip("/"))
    os.makedirs(base)
    for name, mode, content in SEED:
        path = os.path.join(base, name)
        if content is None:
            os.makedirs(path, exist_ok=True)
        else:
            with open(path, "w") as f:
                f.write(content)
        os.chmod(path, mode)



def node_report(output: str) -> list[str]:
    """The node-save init's lines (after MARK) from a console log."""
    return [line.split(MARK, 1)[1].strip() for line in output.splitlines() if MARK in line]
