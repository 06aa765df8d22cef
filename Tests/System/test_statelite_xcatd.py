"""Issue 12 item 1: a statelite node with `XCAT=` and no tables in its image gets its litefile and litetree from
xcatd over TLS at boot, as xCAT's rc.statelite does, but verifies xcatd against the site CA the image holds.

The xcatd is the loopback stand-in written from the protocol (harness/xcatd.py) on 127.0.0.1; QEMU user networking
carries the guest's connection to 10.0.2.2 there, so the stand-in sees the peer as 127.0.0.1 and names the node from
its own mapping (no DNS). Its certificates are made by the test with the openssl command.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from harness import images
from harness.qemu import GUEST_HOST_ADDR
from harness.report import parse_report
from test_statelite import BOUND, INIT_HEAD, sl_lines, value, write

SERVER = GUEST_HOST_ADDR
HARNESS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "harness")

XCATD_INIT = INIT_HEAD + r"""for f in /etc/motd /etc/issue /var/log/messages; do show "$f"; done
for f in /etc/motd /etc/issue /var/log/messages; do
    if ( echo probe >> "$f" ) 2>/dev/null; then echo "$M sl writable $f yes"; else echo "$M sl writable $f no"; fi
done
grep -E "xcatd" /.statelite/statelite.log 2>/dev/null | sed "s|^|$M sl log |"
echo "$M done"
sync
poweroff -f
"""

# The site's litefile and litetree as tabdump writes them; xcatd merges them for the node's image.
LITEFILE = """#image,file,options,comments,disable
"ALL","/etc/motd","ro",,
"rhels8.8-x86_64-statelite-compute","/etc/issue",,,
"ALL","/var/log/","tmpfs",,
"other-image","/etc/issue","ro",,
"""


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_certificates(d: str) -> None:
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{d}/ca.key", "-out", f"{d}/ca.pem",
            "-days", "3650", "-subj", "/CN=xCAT CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=keyCertSign,cRLSign")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{d}/server.key", "-out", f"{d}/server.csr",
            "-subj", "/CN=mn1")
    with open(f"{d}/ext.cnf", "w") as f:
        f.write("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyAgreement,keyEncipherment\n"
                "extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:mn1.cluster.test,DNS:mn1\n")
    openssl("x509", "-req", "-in", f"{d}/server.csr", "-CA", f"{d}/ca.pem", "-CAkey", f"{d}/ca.key",
            "-CAcreateserial", "-out", f"{d}/server.pem", "-days", "3650", "-extfile", f"{d}/ext.cnf")


@pytest.fixture
def xcatd_site(image_paths, tmp_path):
    base = os.path.join(image_paths["rw"], "statelite-xcatd")
    shutil.rmtree(base, ignore_errors=True)
    image = os.path.join(base, "image")
    images.build_busybox_root(image, XCATD_INIT)
    for name, text in {"etc/motd": "image motd\n", "etc/issue": "image issue\n",
                       "var/log/messages": "image log\n"}.items():
        write(os.path.join(image, name), text)
    assert not os.path.exists(os.path.join(image, "etc/nodeinit")), "the image must hold no tables"
    tree = os.path.join(base, "tree1")
    write(os.path.join(tree, "etc/motd"), "tree1 motd\n")
    certs = str(tmp_path)
    make_certificates(certs)
    # Where packimage puts the postscripts' _xcat/ca.pem in an image.
    write(os.path.join(image, "xcatpost/_xcat/ca.pem"), open(f"{certs}/ca.pem").read())
    write(f"{certs}/litefile.csv", LITEFILE)
    write(f"{certs}/litetree.csv", "#priority,image,directory,mntopts,comments,disable\n"
                                   f'"1","ALL","{SERVER}:{tree}","vers=4.2",,\n')
    log = f"{certs}/requests.log"
    out = open(f"{certs}/standin.err", "w")
    proc = subprocess.Popen(
        [sys.executable, os.path.join(HARNESS, "xcatd.py"), "--cert", f"{certs}/server.pem",
         "--key", f"{certs}/server.key", "--port-file", f"{certs}/port", "--log", log,
         # slirp connects from the host's loopback: that is the address xcatd's reverse lookup sees.
         "--host", "127.0.0.1=sl1-eth0.cluster.test", "--node", "sl1=rhels8.8,x86_64,compute",
         "--litefile", f"{certs}/litefile.csv", "--litetree", f"{certs}/litetree.csv"],
        stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 15
        while not os.path.exists(f"{certs}/port"):
            assert proc.poll() is None and time.monotonic() < deadline, open(f"{certs}/standin.err").read()
            time.sleep(0.05)
        port = int(open(f"{certs}/port").read())
        yield {"image": image, "tree": tree, "port": port, "log": log}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        out.close()


def test_statelite_tables_from_xcatd_over_verified_tls(boot, nfs_server, xcatd_site):
    site = xcatd_site
    vm = boot(f"ip=dhcp root=nfs:{SERVER}:{site['image']} STATEMNT= NODE=sl1 XCAT={SERVER}:{site['port']} "
              "rd.retry=60")
    vm.wait_exit(BOUND)
    lines = sl_lines(vm)
    report = parse_report(vm.output)
    # The litefile rules xcatd sent were applied: ro from the litetree over NFS, blank (tmpfs,rw) and tmpfs copies.
    assert value(lines, "file", "/etc/motd") == "tree1 motd|", vm.log_path
    assert value(lines, "writable", "/etc/motd") == "no"
    motd = report.mount_at("/etc/motd")
    assert motd is not None and "ro" in motd.options, motd
    assert value(lines, "file", "/etc/issue") == "image issue|"
    assert value(lines, "writable", "/etc/issue") == "yes"
    assert value(lines, "writable", "/var/log/messages") == "yes"
    assert report.mount_at("/var/log") is not None
    trees = [m for m in report.mounts if m.point.startswith("/.statelite/mnt/")]
    assert len(trees) == 1 and "ro" in trees[0].options, trees
    # Verified against the image's CA, and said so.
    assert (f"from xcatd at {SERVER}:{site['port']} for node sl1 (TLS verified against /xcatpost/_xcat/ca.pem)"
            in vm.output), vm.log_path
    assert "UNVERIFIED" not in vm.output
    logged = " ".join(lines.get("log", []))
    assert "read the litefile table from xcatd" in logged and "read the litetree table from xcatd" in logged, logged
    # What the stand-in saw: the two requests, byte for byte what rc.statelite sends, from the node.
    records = [json.loads(line) for line in open(site["log"])]
    requests = [r["request"] for r in records if "request" in r]
    assert requests == ["<xcatrequest><command>litefile</command></xcatrequest>\n",
                        "<xcatrequest><command>litetree</command></xcatrequest>\n"], records
