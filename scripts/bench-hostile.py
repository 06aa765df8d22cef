#!/usr/bin/env python3
"""make bench-hostile: peak RSS of `nodeinit apply`, `pull` and `save` fed a decompression bomb.

The bomb is SIZE bytes of zeros (default 4 GiB), gzip- and zstd-compressed (about 4 MB and 130 KB): as a tar
stream that is an empty archive followed by zero padding, so every path must decompress and read all of it,
and nothing is written to disk but the compressed layer. `pull` and `save` fetch it from a stand-in agent (a
small HTTP server in this script, chunked like the real one), with a token so the run needs no reserved port.
Peak RSS comes from GNU time (%M), per run; a figure over LIMIT_MIB (32) is flagged. This is a benchmark, not
a test: it prints, and exits 1 only when a run failed or went over the limit.

Environment: SIZE (4294967296), LIMIT_MIB (32). Bombs are cached in build/bench-hostile.
"""
import argparse
import http.server
import os
import shutil
import socketserver
import subprocess
import sys
import tempfile
import threading

SIZE = int(os.environ.get("SIZE", str(4 << 30)))
LIMIT_MIB = int(os.environ.get("LIMIT_MIB", "32"))
CACHE = os.path.join("build", "bench-hostile")
MEDIA = {"gzip": "application/vnd.oci.image.layer.v1.tar+gzip", "zstd": "application/vnd.oci.image.layer.v1.tar+zstd"}


def make_bomb(compression):
    os.makedirs(CACHE, exist_ok=True)
    path = os.path.join(CACHE, "zeros-%d.tar.%s" % (SIZE, "gz" if compression == "gzip" else "zst"))
    if os.path.exists(path):
        return path
    tool = ["gzip", "-1", "-c"] if compression == "gzip" else ["zstd", "-q", "-c", "-3"]
    with open(path + ".tmp", "wb") as out:
        zeros = subprocess.Popen(["head", "-c", str(SIZE), "/dev/zero"], stdout=subprocess.PIPE)
        subprocess.run(tool, stdin=zeros.stdout, stdout=out, check=True)
        zeros.stdout.close()
        zeros.wait()
    os.rename(path + ".tmp", path)
    return path


class Agent(http.server.BaseHTTPRequestHandler):
    """Answers /v1/summary and /v1/layer like the node-save agent, serving the current bomb."""
    protocol_version = "HTTP/1.1"
    layers = {}

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path.startswith("/v1/summary"):
            body = b"{}\n"
            self.send_response(200)
            for name, value in [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                                ("Nodeinit-Entries", "0"), ("Nodeinit-Content-Bytes", "0"), ("Connection", "close")]:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
            return
        compression = self.path.split("compress=", 1)[-1]
        self.send_response(200)
        self.send_header("Content-Type", MEDIA[compression])
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        with open(self.layers[compression], "rb") as layer:
            while True:
                chunk = layer.read(256 * 1024)
                if not chunk:
                    break
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        self.wfile.write(b"0\r\n\r\n")


def peak_rss(command):
    """Runs command under GNU time; returns (exit status, peak RSS KiB, stderr tail)."""
    with tempfile.NamedTemporaryFile(prefix="bench-hostile-rss-") as rss:
        run = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss.name] + command,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        rss.seek(0)
        lines = rss.read().decode().strip().splitlines()
        kib = int(lines[-1]) if lines and lines[-1].isdigit() else -1
        return run.returncode, kib, run.stderr.decode(errors="replace").strip().splitlines()[-1:]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodeinit", default=".build/release/nodeinit")
    args = parser.parse_args()
    nodeinit = os.path.abspath(args.nodeinit)
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Agent)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    node = "127.0.0.1:%d" % server.server_address[1]
    work = tempfile.mkdtemp(prefix="bench-hostile-")
    token = os.path.join(work, "token")
    with open(token, "w") as handle:
        handle.write("bench-token\n")
    os.chmod(token, 0o600)
    failed = False
    print("bomb: %.1f GiB of zeros; limit %d MiB peak RSS; %s" % (SIZE / (1 << 30), LIMIT_MIB, nodeinit))
    print("%-6s %-5s %12s %10s  %s" % ("path", "comp", "layer bytes", "peak RSS", "result"))
    try:
        for compression in ["gzip", "zstd"]:
            bomb = make_bomb(compression)
            Agent.layers[compression] = bomb
            image = os.path.join(work, "image")
            os.makedirs(image, exist_ok=True)
            runs = {
                "apply": [nodeinit, "apply", bomb, image],
                "pull": [nodeinit, "pull", node, "-o", os.path.join(work, "pulled"), "--compress", compression,
                         "--token-file", token, "--quiet"],
                "save": [nodeinit, "save", node, image, os.path.join(work, "saved"), "--compress", compression,
                         "--token-file", token, "--quiet"],
            }
            for name, command in runs.items():
                status, kib, tail = peak_rss(command)
                over = kib < 0 or kib > LIMIT_MIB * 1024
                failed = failed or status != 0 or over
                result = "ok" if status == 0 else "exit %d: %s" % (status, " ".join(tail))
                if over:
                    result += "  OVER %d MiB" % LIMIT_MIB
                print("%-6s %-5s %12d %7.1f MiB  %s" % (name, compression, os.path.getsize(bomb), kib / 1024, result),
                      flush=True)
                for leftover in ["pulled", "saved"]:
                    path = os.path.join(work, leftover)
                    if os.path.isdir(path):
                        shutil.rmtree(path)
                    elif os.path.exists(path):
                        os.unlink(path)
    finally:
        server.shutdown()
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
