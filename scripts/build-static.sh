#!/bin/bash
# Builds the statically linked, stripped binaries: build/nodeinit-node (the node's /init: the boot and the node-side
# commands) and build/nodeinit (the full command: those plus pull, save, apply and initramfs, for servers).
#
# -static-executable is passed on the command line so the manifest stays free of unsafe flags; -Osize because every
# node unpacks the binary at every boot, and its hot paths are system calls (sendfile, reads), not Swift loops;
# --product keeps the test targets out; a separate scratch path keeps this release build from
# invalidating the debug build in .build. The static libmount.a/libblkid.a come from
# scripts/build-static-libmount.sh (Debian 12 ships no libmount.a).
set -euo pipefail

cd "$(dirname "$0")/.."
swift=${SWIFT:-swift}
out=${NODEINIT_OUT:-build/nodeinit}

libs=$(scripts/build-static-libmount.sh | tail -n 1)

# mbedtls (TLS to xcatd) links from Debian's static archives (libmbedtls-dev 2.28): Sources/CMbedTLS's module map
# names the three libraries, and -static makes the linker take the .a files found here.
mbedtls_dir=${MBEDTLS_LIBDIR:-$(dirname "$(gcc -print-file-name=libmbedtls.a)")}
for lib in libmbedtls.a libmbedx509.a libmbedcrypto.a; do
    test -f "$mbedtls_dir/$lib" || { echo "build-static: $mbedtls_dir/$lib missing (apt-get install libmbedtls-dev)" >&2; exit 1; }
done

# The version the binary reports: `git describe` of this checkout when there is one (Sources/CBuildVersion's
# header holds the release number otherwise). Only characters safe inside a C string literal are kept.
version_flags=()
if version=$(git describe --tags --always 2>/dev/null); then
    version=$(printf '%s' "$version" | tr -cd 'A-Za-z0-9._+-')
    version_flags=(-Xcc "-DNODEINIT_VERSION=\"$version\"")
fi

# Size flags (measured on nodeinit-node, stripped; docs/architecture.md#binary-size):
# - -function-sections: swiftc puts most of a file's functions in one .text section, which --gc-sections keeps
#   whole when any of them is used; one section per function lets it drop the unused ones (-266 KB).
# - -internalize-at-link: without it swiftc marks every public function of a module SHF_GNU_RETAIN (used), so
#   the linker keeps all of them; both executables are whole programs, linked statically, with no dlsym of
#   Swift symbols, so nothing outside the link needs them (-434 KB with the above). Type metadata, conformances
#   and what they reference are still kept (those sections stay retained).
# - --icf=safe: gold folds identical functions whose address is never taken (it treats every non-call reference
#   as address-taken), so no pointer comparison can tell (-151 KB). --icf=all would save 240 KB more but may
#   merge functions whose addresses are compared (C callbacks, runtime tables): not used.
# - the standard library from scripts/unretain-static-stdlib.py: the toolchain's static libraries mark every public
#   Swift function retained, so the whole public standard library was linked; the copy lets the linker drop what
#   nothing uses (-864 KB). It changes section flags only, never code.
swift_lib=$(dirname "$(dirname "$(readlink -f "$(command -v "${SWIFTC:-swiftc}")")")")/lib
resource_dir=$(python3 scripts/unretain-static-stdlib.py "$swift_lib" build/swift-unretained | tail -n 1)
size_flags=(-Xswiftc -Xfrontend -Xswiftc -function-sections -Xswiftc -Xfrontend -Xswiftc -internalize-at-link
    -Xswiftc -resource-dir -Xswiftc "$resource_dir")

build_product() {
    local product=$1 out=$2 drop_unwind=$3
    "$swift" build -c release --product "$product" --scratch-path .build-static -Xswiftc -Osize "${size_flags[@]}" \
        -Xswiftc -static-executable -Xlinker -L"$libs" -Xlinker -L"$mbedtls_dir" -Xlinker --icf=safe -Xlinker -s \
        "${version_flags[@]}"
    local bin
    bin=$("$swift" build -c release --product "$product" --scratch-path .build-static -Xswiftc -Osize \
        "${size_flags[@]}" --show-bin-path "${version_flags[@]}")/$product
    test -x "$bin" || { echo "build-static: $bin was not produced" >&2; exit 1; }

    mkdir -p "$(dirname "$out")"
    cp "$bin" "$out.tmp"
    # The node's /init goes without unwind tables (-1.5 MB; why it is safe: scripts/drop-unwind-tables.py). The
    # server's command keeps them, for debuggers and crash reports where size matters less.
    if [ "$drop_unwind" = yes ]; then
        python3 scripts/drop-unwind-tables.py "$out.tmp"
    fi
    # Replace only when the binary changed, so make-style consumers (the initramfs) see a stable mtime.
    if cmp -s "$out.tmp" "$out"; then
        rm -f "$out.tmp"
    else
        mv "$out.tmp" "$out"
    fi

    local description
    description=$(file -b "$out")
    case "$description" in
        *"statically linked"*) ;;
        *) echo "build-static: $out is not statically linked: $description" >&2; exit 1 ;;
    esac
    echo "build-static: $out ($(stat -c %s "$out") bytes): $description"
}

build_product nodeinit-node "${NODEINIT_NODE_OUT:-build/nodeinit-node}" yes
build_product nodeinit "$out" no
