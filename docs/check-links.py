#!/usr/bin/env python3
"""Checks that every relative link between README.md and docs/*.md resolves, anchors included (GitHub slugs)."""
import os, re, sys
# Usage: python3 docs/check-links.py [repository root]
root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
files = ["README.md"] + sorted("docs/" + f for f in os.listdir(os.path.join(root, "docs")) if f.endswith(".md"))

def slug(heading):
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)   # drop punctuation (backticks, dots, colons, parentheses, slashes, =)
    return s.replace(" ", "-")

def anchors(path):
    seen, out = {}, set()
    in_code = False
    for line in open(path, encoding="utf-8"):
        if line.startswith("```"):
            in_code = not in_code
            continue
        m = None if in_code else re.match(r"^(#{1,6})\s+(.*?)\s*$", line)
        if m:
            base = slug(m.group(2))
            n = seen.get(base, 0)
            out.add(base if n == 0 else f"{base}-{n}")
            seen[base] = n + 1
    return out

bad = 0
count = 0
for f in files:
    path = os.path.join(root, f)
    text = open(path, encoding="utf-8").read()
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"^[a-z]+://", target) or target.startswith("mailto:"):
            continue
        count += 1
        file_part, _, anchor = target.partition("#")
        dest = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
        if not os.path.isfile(dest):
            print(f"{f}: {target}: no file {os.path.relpath(dest, root)}"); bad += 1; continue
        if anchor and dest.endswith(".md") and anchor not in anchors(dest):
            print(f"{f}: {target}: no heading #{anchor} in {os.path.relpath(dest, root)}"); bad += 1
print(f"{count} links checked in {len(files)} files, {bad} broken")
sys.exit(1 if bad else 0)
