"""Issue 11: `walt node save` on the WalT server side, with integrations/walt/nodeinit-walt-node-diff (no QEMU).

A host overlay laid out as walt-init leaves a node (the upper bound at <merged>/run/walt/rootfs/mnt/fs_rw, walt-env
recording walt_boot_mode) stands in for the node; a stand-in `ssh` on PATH runs the remote command against it the way
sshd would hand it to the node's shell (one word, in double quotes, as WalT's `ssh_wrap_cmd` writes it). The base
image lives in a private buildah store (vfs driver). Checked: the saved image is the base plus one layer, holding the
created and modified files and the deletions (a file and a replaced directory), and none of walt-init's own files;
a node without nodeinit (the remote shell exits 127) falls back to WalT's walt-dump-diff-tar.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import tempfile

import pytest

from harness.nodesave import nodeinit_binary

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "..", "integrations", "walt", "nodeinit-walt-node-diff")
WALT_DUMP = "/bin/_walt_internal_/walt-dump-diff-tar"

# The stand-in ssh: the last argument is the remote command line; the node's shell would strip the quotes.
FAKE_SSH = r"""#!/bin/sh
for last; do :; done
command=$(printf '%s' "$last" | tr -d '"')
case "$command" in
/run/nodeinit/walt-dump-diff-layer)
    [ -n "$NODE_HAS_NODEINIT" ] || { echo "sh: $command: not found" >&2; exit 127; }
    exec "$NODEINIT" capture --walt --merged "$NODE_ROOT" ;;
/bin/_walt_internal_/walt-dump-diff-tar)
    # WalT's dump keeps regular files and symlinks only (find -type f -o -type l): whiteouts are lost.
    cd "$NODE_ROOT/run/walt/rootfs/mnt/fs_rw" && find ./srv '(' -type f -o -type l ')' | exec tar cf - -T - ;;
*) echo "fake ssh: unexpected command $command" >&2; exit 99 ;;
esac
"""


def run(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), check=True, capture_output=True, text=True, **kwargs)


@pytest.fixture
def walt_node():
    """A mounted node tree (lower image, upper, merged) in a private mount namespace-free temp dir; unmounted after."""
    if shutil.which("buildah") is None:
        pytest.fail("buildah is missing (scripts/install-deps.sh installs it)")
    work = tempfile.mkdtemp(prefix="walt-server-save-")
    mounts: list[str] = []
    try:
        lower = os.path.join(work, "image")
        for d in ("bin/_walt_internal_", "etc", "srv/data/old", "run"):
            os.makedirs(os.path.join(lower, d))
        files = {"etc/hostname": "base\n", "srv/data/modify.txt": "original\n", "srv/data/delete.txt": "doomed\n",
                 "srv/data/keep.txt": "kept\n", "srv/data/old/inside.txt": "old\n",
                 "bin/walt-env": "export walt_server_ip=10.0.2.2\nexport walt_image_id=abc123\n"}
        for path, text in files.items():
            with open(os.path.join(lower, path), "w") as f:
                f.write(text)
        ram = os.path.join(work, "ram")  # walt-init's RAM root: upper and work dirs
        upper, overlay_work, merged = os.path.join(ram, "fs_rw"), os.path.join(ram, "fs_work"), os.path.join(work, "m")
        for d in (ram, merged):
            os.makedirs(d)
        run("mount", "-t", "tmpfs", "tmpfs", ram)
        mounts.append(ram)
        os.makedirs(upper)
        os.makedirs(overlay_work)
        run("mount", "-t", "overlay", "-o", f"lowerdir={lower},upperdir={upper},workdir={overlay_work}", "union", merged)
        mounts.append(merged)
        run("mount", "-t", "tmpfs", "tmpfs", os.path.join(merged, "run"))
        mounts.append(os.path.join(merged, "run"))
        seen_upper = os.path.join(merged, "run/walt/rootfs/mnt/fs_rw")
        os.makedirs(seen_upper)
        run("mount", "--bind", upper, seen_upper)
        mounts.append(seen_upper)
        # What walt-init and a user did on the node, through the merged view.
        with open(os.path.join(merged, "bin/walt-env"), "a") as f:
            f.write("export walt_boot_mode='network'\n")
        with open(os.path.join(merged, "srv/data/created.txt"), "w") as f:
            f.write("created on the node\n")
        with open(os.path.join(merged, "srv/data/modify.txt"), "w") as f:
            f.write("modified on the node\n")
        os.remove(os.path.join(merged, "srv/data/delete.txt"))
        shutil.rmtree(os.path.join(merged, "srv/data/old"))
        os.makedirs(os.path.join(merged, "srv/data/old"))
        with open(os.path.join(merged, "srv/data/old/fresh.txt"), "w") as f:
            f.write("fresh\n")
        yield {"work": work, "lower": lower, "merged": merged}
    finally:
        for point in reversed(mounts):
            subprocess.run(["umount", "-l", point], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


def buildah_command(store: str) -> list[str]:
    return ["buildah", "--root", os.path.join(store, "root"), "--runroot", os.path.join(store, "run"),
            "--storage-driver", "vfs"]


def commit_base(buildah: list[str], lower: str) -> None:
    container = run(*buildah, "from", "scratch").stdout.strip()
    try:
        mountpoint = run(*buildah, "mount", container).stdout.strip()
        run("cp", "-a", lower + "/.", mountpoint)
        run(*buildah, "umount", container)
        run(*buildah, "commit", "--quiet", "--format", "docker", container, "docker.io/waltplatform/base:latest")
    finally:
        subprocess.run([*buildah, "rm", container], capture_output=True)


def image_tree(buildah: list[str], image: str) -> tuple[dict[str, str], int]:
    """Every regular file of an image with its content, and its number of layers."""
    container = run(*buildah, "from", "--pull=never", image).stdout.strip()
    try:
        mountpoint = run(*buildah, "mount", container).stdout.strip()
        files = {}
        for directory, _, names in os.walk(mountpoint):
            for name in names:
                path = os.path.join(directory, name)
                with open(path, errors="replace") as f:
                    files[os.path.relpath(path, mountpoint)] = f.read()
        layers = len(json.loads(run(*buildah, "inspect", "--type", "image", image).stdout)["OCIv1"]["rootfs"]["diff_ids"])
        return files, layers
    finally:
        subprocess.run([*buildah, "rm", container], capture_output=True)


@pytest.mark.parametrize("node_has_nodeinit", [True, False])
def test_walt_node_save_on_the_server(walt_node, node_has_nodeinit):
    store = os.path.join(walt_node["work"], "store")
    bin_dir = os.path.join(walt_node["work"], "path")
    os.makedirs(bin_dir)
    with open(os.path.join(bin_dir, "ssh"), "w") as f:
        f.write(FAKE_SSH)
    os.chmod(os.path.join(bin_dir, "ssh"), 0o755)
    buildah = buildah_command(store)
    commit_base(buildah, walt_node["lower"])

    environment = dict(os.environ, PATH=bin_dir + ":" + os.environ["PATH"], NODEINIT=nodeinit_binary(),
                       BUILDAH=" ".join(buildah), NODE_ROOT=walt_node["merged"],
                       NODE_HAS_NODEINIT="1" if node_has_nodeinit else "")
    # The dump command exactly as WalT's transfer.py formats it (ssh_wrap_cmd: the command in double quotes).
    dump_cmd = f'ssh -o BatchMode=yes -o ConnectTimeout=10 root@192.168.152.12 "{WALT_DUMP}"'
    result = subprocess.run([SCRIPT, dump_cmd, "waltplatform/base:latest", "docker.io/eduble/saved:latest"],
                            env=environment, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    print(result.stdout)

    base_files, base_layers = image_tree(buildah, "docker.io/waltplatform/base:latest")
    files, layers = image_tree(buildah, "docker.io/eduble/saved:latest")
    assert layers == base_layers + 1, f"expected one new layer on the base's {base_layers}, got {layers}"
    assert files["srv/data/created.txt"] == "created on the node\n"
    assert files["srv/data/modify.txt"] == "modified on the node\n"
    assert files["srv/data/keep.txt"] == "kept\n"
    assert files["srv/data/old/fresh.txt"] == "fresh\n"
    assert "walt_boot_mode" not in files["bin/walt-env"], "walt-init's boot record reached the image"
    assert not any(".wh." in name for name in files), sorted(files)
    if node_has_nodeinit:
        assert "Node changes:" in result.stdout and "deleted" in result.stdout, result.stdout
        # Deletions are what WalT's own save cannot carry.
        assert "srv/data/delete.txt" not in files, sorted(files)
        assert "srv/data/old/inside.txt" not in files, sorted(files)
    else:
        assert "not booted by nodeinit" in result.stdout, result.stdout
        assert files["srv/data/delete.txt"] == "doomed\n"  # WalT's dump: deletions lost, as documented
