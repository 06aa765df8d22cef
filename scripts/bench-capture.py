#!/usr/bin/env python3
"""make bench-capture: nodeinit capture against GNU tar and busybox tar on the same upper directory.

Builds an upper directory on a fresh tmpfs (as a node's upper is) with SMALL_FILES small files and LARGE_COUNT
files of LARGE_SIZE bytes, then streams it with each tool into a pipe read by this script, which measures time to
first byte, total time, throughput and the tool's peak RSS (GNU time's %M, as /usr/bin/time -v prints it). A pipe rather than /dev/null because GNU tar skips reading file data when its output is /dev/null.

Environment: SMALL_FILES (50000), LARGE_COUNT (3), LARGE_SIZE (1073741824), BENCH_RUNS (2, best kept).
"""
import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

SMALL_FILES = int(os.environ.get("SMALL_FILES", "50000"))
LARGE_COUNT = int(os.environ.get("LARGE_COUNT", "3"))
LARGE_SIZE = int(os.environ.get("LARGE_SIZE", str(1 << 30)))
RUNS = int(os.environ.get("BENCH_RUNS", "2"))


def make_upper(upper):
    rng = random.Random(42)
    block = os.urandom(1 << 20)
    per_dir = 100
    small_bytes = 0
    for index in range(SMALL_FILES):
        directory = os.path.join(upper, "data", "d%04d" % (index // per_dir))
        if index % per_dir == 0:
            os.makedirs(directory, exist_ok=True)
        size = rng.randint(100, 8192)
        offset = rng.randint(0, len(block) - size)
        with open(os.path.join(directory, "f%05d" % index), "wb") as handle:
            handle.write(block[offset:offset + size])
        small_bytes += size
    big = os.path.join(upper, "big")
    os.makedirs(big, exist_ok=True)
    for index in range(LARGE_COUNT):
        with open(os.path.join(big, "large%d.img" % index), "wb") as handle:
            left = LARGE_SIZE
            chunk = os.urandom(8 << 20)
            while left > 0:
                handle.write(chunk[:min(left, len(chunk))])
                left -= len(chunk)
    return small_bytes


def measure(command):
    """Runs command with stdout into a pipe we drain; returns (bytes, ttfb s, total s, peak RSS KiB).

    The peak RSS comes from /usr/bin/time (GNU time): wait4's ru_maxrss for our own child would include the
    forked Python image, since the high-water mark survives execve.
    """
    rss_file = tempfile.NamedTemporaryFile(prefix="capture-bench-rss-", delete=False)
    rss_file.close()
    start = time.monotonic()
    process = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", rss_file.name] + command,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    fd = process.stdout.fileno()
    first = None
    total = 0
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        if first is None:
            first = time.monotonic() - start
        total += len(chunk)
    process.wait()
    elapsed = time.monotonic() - start
    with open(rss_file.name) as handle:
        rss = int(handle.read().split()[-1])
    os.unlink(rss_file.name)
    if process.returncode != 0:
        raise SystemExit("bench: %s exited %d" % (" ".join(command), process.returncode))
    return total, first or elapsed, elapsed, rss


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodeinit", required=True)
    args = parser.parse_args()
    nodeinit = os.path.abspath(args.nodeinit)
    base = tempfile.mkdtemp(prefix="capture-bench-")
    upper = os.path.join(base, "upper")
    mounted = False
    try:
        os.makedirs(upper)
        if os.geteuid() == 0:
            size = LARGE_COUNT * LARGE_SIZE + SMALL_FILES * 16384 + (256 << 20)
            subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d" % size, "capture-bench", upper], check=True)
            mounted = True
        print("bench-capture: building upper (%d small files, %d x %d MiB) on %s" % (
            SMALL_FILES, LARGE_COUNT, LARGE_SIZE >> 20, "tmpfs" if mounted else "disk"), flush=True)
        small_bytes = make_upper(upper)
        data = small_bytes + LARGE_COUNT * LARGE_SIZE
        print("bench-capture: %.1f MiB of file data" % (data / 1048576), flush=True)
        tools = [
            ("nodeinit capture", [nodeinit, "capture", "--upper", upper, "--merged", "/", "--placed", "/nonexistent"]),
            ("GNU tar", ["tar", "-C", upper, "-cf", "-", "."]),
            ("busybox tar", ["busybox", "tar", "-C", upper, "-cf", "-", "."]),
            ("nodeinit capture zstd", [nodeinit, "capture", "--upper", upper, "--merged", "/", "--placed", "/nonexistent",
                                       "--compress", "zstd"]),
        ]
        results = {}
        for name, command in tools:
            best = None
            for _ in range(RUNS):
                result = measure(command)
                if best is None or result[2] < best[2]:
                    best = result
            results[name] = best
        # Memory must not grow with the data: the same capture on the small files alone.
        small_only = measure([nodeinit, "capture", "--upper", os.path.join(upper, "data"), "--merged", "/",
                              "--placed", "/nonexistent"])

        print()
        print("%-24s %12s %10s %10s %12s %12s" % ("tool", "stream MiB", "seconds", "MiB/s", "TTFB ms", "peak RSS MiB"))
        for name, (total, first, elapsed, rss) in results.items():
            print("%-24s %12.1f %10.2f %10.1f %12.1f %12.1f" % (
                name, total / 1048576, elapsed, data / 1048576 / elapsed, first * 1000, rss / 1024))
        gnu = results["GNU tar"][2]
        busybox = results["busybox tar"][2]
        ours = results["nodeinit capture"][2]
        print()
        print("throughput ratio nodeinit/GNU tar: %.2f   nodeinit/busybox tar: %.2f" % (gnu / ours, busybox / ours))
        print("nodeinit peak RSS: %.1f MiB with the large files, %.1f MiB on the small files alone" % (
            results["nodeinit capture"][3] / 1024, small_only[3] / 1024))
    finally:
        if mounted:
            if subprocess.run(["umount", upper]).returncode != 0:
                subprocess.run(["umount", "-l", upper])
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
