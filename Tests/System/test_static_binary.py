"""Checks what scripts/build-static.sh leaves in build/: the node's /init without unwind tables, the server's with."""

import os
import subprocess
import sys

import pytest

from harness import paths

sys.path.insert(0, os.path.join(paths.REPO, "scripts"))
drop_unwind_tables = __import__("drop-unwind-tables")

PT_GNU_EH_FRAME = drop_unwind_tables.PT_GNU_EH_FRAME
program_header_types = drop_unwind_tables.program_header_types_of


def test_node_binary_has_no_unwind_tables_and_runs():
    node = os.path.join(paths.BUILD, "nodeinit-node")
    assert PT_GNU_EH_FRAME not in program_header_types(node)
    assert not drop_unwind_tables.section_names(node) & {".eh_frame", ".eh_frame_hdr"}
    # Issue 15's budget for /init, stripped.
    assert os.path.getsize(node) <= 10_000_000
    result = subprocess.run([node, "version"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


def test_server_binary_keeps_its_unwind_tables():
    server = os.path.join(paths.BUILD, "nodeinit")
    assert PT_GNU_EH_FRAME in program_header_types(server)


def test_dropping_refuses_what_is_not_an_elf_file(tmp_path):
    text = tmp_path / "not-elf"
    text.write_bytes(b"#!/bin/sh\n" + b"\0" * 64)
    with pytest.raises(SystemExit, match="not a little-endian 64-bit ELF file"):
        drop_unwind_tables.program_header_types(text.read_bytes())


def test_dropping_keeps_a_static_program_working(tmp_path):
    # A static C program that creates a thread which returns (as every nodeinit thread does) still runs without
    # its tables, and the script leaves no PT_GNU_EH_FRAME behind.
    source = tmp_path / "t.c"
    source.write_text(
        "#include <pthread.h>\n#include <stdio.h>\n"
        "static void *work(void *a) { return (void *)7; }\n"
        "int main(void) { pthread_t t; void *r; pthread_create(&t, 0, work, 0); pthread_join(t, &r);"
        " printf(\"%ld\\n\", (long)r); return 0; }\n")
    binary = tmp_path / "t"
    subprocess.run(["gcc", "-static", "-O1", str(source), "-o", str(binary)], check=True)
    before = binary.stat().st_size
    subprocess.run([sys.executable, os.path.join(paths.REPO, "scripts", "drop-unwind-tables.py"), str(binary)],
                   check=True, capture_output=True)
    assert binary.stat().st_size < before
    assert PT_GNU_EH_FRAME not in program_header_types(binary)
    assert subprocess.run([str(binary)], capture_output=True, text=True, check=True).stdout == "7\n"
