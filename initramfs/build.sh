#!/bin/bash
# `make initramfs` driver: runs `build/nodeinit initramfs` (Sources/InitramfsBuild). Environment (all optional):
#   KVER         kernel version; with no MODULES_DIR the modules come from /lib/modules/KVER
#   MODULES_DIR  the kernel's modules directory (an admin's own kernel)
#   OUT          the archive to write (default build/initramfs.img)
#   INIT         the /init to pack (default build/nodeinit-node, from `make static`)
#   COMPRESS     zstd (default), gzip or none
#   LEVEL        compression level (zstd default 19: 11 MB; LEVEL=3 gives 15 MB in a few seconds)
#   FIRMWARE_DIR the firmware the modules declare, laid out as /lib/firmware (default: the image root's
#                lib/firmware, none for the fetched kernel; scripts/fetch-firmware.sh unpacks Debian's into
#                build/firmware/root/lib/firmware; see docs/initramfs.md#firmware)
#   WITHOUT_FIRMWARE=1  pack no firmware
#   EXCLUDE_MODULES     module names to leave out (blank-separated)
# With neither KVER nor MODULES_DIR, the Debian kernel `linux-image-amd64` depends on is
# downloaded and unpacked into build/kernel (scripts/fetch-kernel.sh) and its modules are used.
# The module list is compiled into nodeinit (`build/nodeinit initramfs --print-modules-list`).
set -euo pipefail
cd "$(dirname "$0")/.."

kver=${KVER:-}
modules_dir=${MODULES_DIR:-}
if [ -z "$kver" ] && [ -z "$modules_dir" ]; then
    eval "$(scripts/fetch-kernel.sh | sed 's/^/fetched_/')"
    kver=$fetched_KVER
    modules_dir=$fetched_MODULES_DIR
elif [ -z "$modules_dir" ]; then
    modules_dir=/lib/modules/$kver
fi
if [ ! -f "$modules_dir/modules.dep" ]; then
    echo "initramfs: $modules_dir has no modules.dep; run: depmod -b <root> $kver" >&2
    exit 1
fi

init=${INIT:-build/nodeinit-node}
args=(--modules-dir "$modules_dir" --init "$init" --out "${OUT:-build/initramfs.img}"
      --compress "${COMPRESS:-zstd}")
[ -n "$kver" ] && args+=(--kver "$kver")
[ -n "${LEVEL:-}" ] && args+=(--level "$LEVEL")
[ -n "${FIRMWARE_DIR:-}" ] && args+=(--firmware-dir "$FIRMWARE_DIR")
[ -n "${WITHOUT_FIRMWARE:-}" ] && args+=(--without-firmware)
for module in ${EXCLUDE_MODULES:-}; do args+=(--exclude-module "$module"); done

# Skip the (slow, zstd -19) rebuild when nothing it depends on changed since the last build. The builder and
# its module list are part of build/nodeinit, so a newer nodeinit means a rebuild.
out=${OUT:-build/initramfs.img}
stamp="$out.args"
if [ -f "$out" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "${args[*]}" ] \
    && [ -z "$(find "$init" build/nodeinit "$modules_dir/modules.dep" -newer "$out" 2>/dev/null)" ]; then
    echo "initramfs: $out is up to date"
    exit 0
fi
rm -f "$stamp"
build/nodeinit initramfs "${args[@]}"
printf '%s' "${args[*]}" >"$stamp"
