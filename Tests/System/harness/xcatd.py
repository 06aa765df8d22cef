#!/usr/bin/env python3
"""A loopback stand-in for xcatd's statelite requests, written from the protocol (xCAT-server/sbin/xcatd,
xCAT-server/lib/xcat/plugins/litetree.pm, xCAT::XML on XML::Simple), for nodeinit's tests. Not xCAT code.

What it does as xcatd does:
- TLS (no client certificate asked for), one request per read loop: bytes up to `</xcatrequest>`, a connection that
  does not start with `<xcatrequest>` within 15 bytes is closed; after `serverdone` it waits 15 s for another request.
- The node is named from the peer address (xcatd: `gethostbyaddr`, domain and -eth*/-myri*/-ib* suffixes stripped);
  here from `--host ADDRESS=NAME` (a missing one is a failed reverse lookup). A name that is no node
  (`--node`) gives what xcatd gives then: the plugin's usage text as an `<info>`.
- litefile/litetree merged as litetree.pm `getNodeData`/`mergeArrays`/`showSync` do: rows for the osimage's
  groups, then '', then ALL, then the image (later rows win per file / per priority); blank options and /etc/mtab
  become `tmpfs,rw`, `/etc/mtab link` is added when missing; files sorted (Perl string sort), priorities numerically;
  `"%s: %-13s %s"` and `"NODE: [SRV:]DIR[ :MNTOPTS]"`.
- XML::Simple output (NoAttr, two-space indent, entities &amp; &lt; &gt; &quot;), bytes outside 0x09-0x7f as `?`,
  written in 4096-byte syswrites, then `<xcatresponse><serverdone></serverdone></xcatresponse>`.

Test modes: `--close-mid-reply N` (the first N connections get part of the reply, then the socket is closed with
no close_notify), `--oversized BYTES` (info lines without end), `--reply-file F` (send F's bytes as the reply).
It listens on 127.0.0.1 only and writes its port to `--port-file` once listening; every request goes to `--log`.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import re
import select
import signal
import socket
import ssl
import sys
import threading


def xml_escape(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    # send_response: $xml =~ tr/\011-\177/?/c
    return "".join(c if 0o11 <= ord(c) <= 0o177 else "?" for c in text)


def response(elements: list[tuple[str, str | None]]) -> str:
    """One <xcatresponse> as XML::Simple's XMLout writes a hash of arrays (keys sorted)."""
    out = "<xcatresponse>\n"
    for name, value in sorted(elements, key=lambda e: e[0]):
        out += f"  <{name}></{name}>\n" if value is None else f"  <{name}>{xml_escape(value)}</{name}>\n"
    return out + "</xcatresponse>\n"


SERVERDONE = response([("serverdone", None)])


def read_table(path: str | None, columns: int) -> list[list[str]]:
    if not path:
        return []
    rows = []
    with open(path, newline="") as f:
        for row in csv.reader(f):
            if not row or row[0].startswith("#"):
                continue
            rows.append((row + [""] * columns)[:columns])
    return rows


class Site:
    def __init__(self, args):
        self.hosts = dict(item.split("=", 1) for item in args.host)
        self.nodes = {}
        for item in args.node:
            name, _, attrs = item.partition("=")
            fields = attrs.split(",") if attrs else []
            self.nodes[name] = dict(zip(["os", "arch", "profile", "provmethod"], fields))
        self.groups = dict(item.split("=", 1) for item in args.osimage_groups)
        # litefile: image,file,options ; litetree: priority,image,directory,mntopts
        self.litefile = read_table(args.litefile, 3)
        self.litetree = read_table(args.litetree, 4)

    def node_for(self, peer: str) -> str | None:
        host = self.hosts.get(peer)
        if host is None:
            return None
        host = host.split(".", 1)[0]
        host = re.sub(r"-eth\d*$", "", host)
        host = re.sub(r"-myri\d*$", "", host)
        host = re.sub(r"-ib\d*$", "", host)
        return host

    def image_for(self, node: str) -> str | None:
        ent = self.nodes[node]
        if not (ent.get("os") and ent.get("arch") and ent.get("profile")):
            return None
        method = ent.get("provmethod", "")
        if not method or method in ("statelite", "netboot", "install"):
            return f"{ent['os']}-{ent['arch']}-statelite-{ent['profile']}"
        return method

    def scopes(self, image: str) -> list[str]:
        scopes = []
        if self.groups.get(image):
            scopes.append(self.groups[image])
        return scopes + ["", "ALL", image]

    def answer(self, command: str, peer: str) -> list[str]:
        if command not in ("litefile", "litetree"):
            return [response([("error", "Unsupported request")])]
        node = self.node_for(peer)
        if node is None or node not in self.nodes:
            return [response([("info", f"Usage: {command} <noderange>\nexample:\n\t{command} node1")])]
        image = self.image_for(node)
        if image is None:
            return [response([("error", f"{node} does not have os, arch, or profile defined in nodetype table"),
                              ("errorcode", "1")])]
        out = []
        if command == "litefile":
            files: dict[str, str] = {}
            mtab = False
            for scope in self.scopes(image):
                for row_image, path, options in self.litefile:
                    if row_image != scope or path == "":
                        continue
                    options = options or "tmpfs,rw"
                    if path == "/etc/mtab":
                        mtab = True
                        options = "tmpfs,rw"
                    files[path] = options
            if not mtab:
                files["/etc/mtab"] = "link"
            for path in sorted(files, key=lambda p: p.encode()):
                out.append(response([("info", "%s: %-13s %s" % (node, files[path], path))]))
        else:
            trees: dict[str, str] = {}
            for scope in self.scopes(image):
                for priority, row_image, directory, mntopts in self.litetree:
                    if row_image != scope or directory == "":
                        continue
                    trees[priority] = f"{directory}:{mntopts}"
            for priority in sorted(trees, key=float):
                # Perl's split(/:/) drops trailing empty fields.
                fields = trees[priority].split(":")
                while fields and fields[-1] == "":
                    fields.pop()
                server, directory, mntopts = (fields + ["", "", ""])[:3]
                if not directory:
                    directory, server = server, ""
                point = (server + ":" if server else "") + directory + (f" :{mntopts}" if mntopts else "")
                out.append(response([("info", f"{node}: {point}")]))
        return out


class Server:
    def __init__(self, args):
        self.args = args
        self.site = Site(args)
        self.lock = threading.Lock()
        self.connections = 0
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.minimum_version = ssl.TLSVersion.TLSv1_2
        self.context.load_cert_chain(args.cert, args.key)

    def log(self, record: dict) -> None:
        with self.lock, open(self.args.log, "a") as f:
            f.write(json.dumps(record) + "\n")

    def serve(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.args.port))
        listener.listen(16)
        port = listener.getsockname()[1]
        tmp = self.args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.rename(tmp, self.args.port_file)
        while True:
            raw, peer = listener.accept()
            with self.lock:
                self.connections += 1
                number = self.connections
            threading.Thread(target=self.connection, args=(raw, peer[0], number), daemon=True).start()

    def connection(self, raw: socket.socket, peer: str, number: int) -> None:
        try:
            raw.settimeout(15)
            try:
                conn = self.context.wrap_socket(raw, server_side=True)
            except (ssl.SSLError, OSError) as e:
                self.log({"connection": number, "peer": peer, "handshake": "failed", "error": str(e)})
                raw.close()
                return
            self.log({"connection": number, "peer": peer, "handshake": "ok", "version": conn.version()})
            while True:
                request = self.read_request(conn)
                if request is None:
                    break
                self.log({"connection": number, "peer": peer, "request": request.decode("latin-1")})
                match = re.search(rb"<command>([^<]*)</command>", request)
                command = match.group(1).decode("latin-1") if match else ""
                if self.reply(conn, command, peer, number) == "closed":
                    return
            conn.close()
        except OSError as e:
            self.log({"connection": number, "peer": peer, "error": str(e)})
        finally:
            raw.close()

    def read_request(self, conn) -> bytes | None:
        data = b""
        while b"</xcatrequest>" not in data:
            ready, _, _ = select.select([conn], [], [], 15)
            if not ready and conn.pending() == 0:
                return None
            chunk = conn.recv(65536)
            if not chunk:
                return None
            data += chunk
            if len(data) > 15 and b"<xcatrequest>" not in data:
                return None
        return data

    def write(self, conn, data: bytes) -> None:
        for start in range(0, len(data), 4096):
            conn.sendall(data[start:start + 4096])

    def reply(self, conn, command: str, peer: str, number: int) -> str:
        args = self.args
        if args.reply_file:
            with open(args.reply_file, "rb") as f:
                self.write(conn, f.read())
            return "sent"
        if args.oversized:
            line = response([("info", "node: tmpfs,rw      /var/" + "x" * 200)]).encode()
            sent = 0
            try:
                while sent < args.oversized:
                    self.write(conn, line)
                    sent += len(line)
            except OSError:
                pass
            self.log({"connection": number, "oversized_sent": sent})
            conn.close()
            return "closed"
        blocks = self.site.answer(command, peer)
        data = "".join(blocks).encode()
        if number <= args.close_mid_reply:
            # Part of the reply, then the socket goes away without a close_notify (a crashed xcatd, a reset).
            cut = data[:len(blocks[0].encode()) + 10] if blocks else b""
            self.write(conn, cut)
            self.log({"connection": number, "closed_mid_reply_after": len(cut)})
            conn.close()
            return "closed"
        self.write(conn, data + SERVERDONE.encode())
        return "sent"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--host", action="append", default=[], help="ADDRESS=NAME: the reverse lookup")
    parser.add_argument("--node", action="append", default=[], help="NAME=os,arch,profile[,provmethod]")
    parser.add_argument("--osimage-groups", action="append", default=[], help="IMAGE=GROUP")
    parser.add_argument("--litefile")
    parser.add_argument("--litetree")
    parser.add_argument("--close-mid-reply", type=int, default=0)
    parser.add_argument("--oversized", type=int, default=0)
    parser.add_argument("--reply-file")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    Server(args).serve()


if __name__ == "__main__":
    main()
