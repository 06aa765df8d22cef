#!/bin/bash
# Builds static libmount.a and libblkid.a from Debian's own util-linux source package.
#
# Why: Debian 12's libmount-dev ships no libmount.a, so a -static-executable link of the init
# cannot take -lmount from the system. We build the very version whose headers libmount-dev
# installed (so headers and library match), without selinux/udev/systemd, and cache the result.
#
# Usage: scripts/build-static-libmount.sh [OUTDIR]    (default: build/util-linux)
# Result: OUTDIR/src/.libs/{libmount.a,libblkid.a}; the script prints that .libs path last.
# Does nothing when both archives already exist.
set -euo pipefail

cd "$(dirname "$0")/.."
out=${1:-build/util-linux}
mkdir -p "$out"
out=$(cd "$out" && pwd)
libs="$out/src/.libs"

if [ -f "$libs/libmount.a" ] && [ -f "$libs/libblkid.a" ]; then
    echo "$libs"
    exit 0
fi

# The headers the Swift modules compile against come from libmount-dev: build that exact version.
version=$(dpkg-query -W -f='${Version}' libmount-dev 2>/dev/null || true)
if [ -z "$version" ]; then
    echo "build-static-libmount: libmount-dev is not installed (run scripts/install-deps.sh)" >&2
    exit 1
fi
. /etc/os-release
suite=${VERSION_CODENAME:?build-static-libmount: /etc/os-release has no VERSION_CODENAME}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security_mirror=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

# A private apt configuration: deb-src lines, index lists and cache all live under $out,
# so the host's apt state is neither needed nor touched.
apt_dir="$out/apt"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/sources.list.d"
cat >"$apt_dir/sources.list" <<EOF
deb-src $mirror $suite main
deb-src $mirror $suite-updates main
deb-src $security_mirror $suite-security main
EOF
apt_opts=(
    -o "Dir::Etc::SourceList=$apt_dir/sources.list"
    -o "Dir::Etc::SourceParts=$apt_dir/sources.list.d"
    -o "Dir::State::Lists=$apt_dir/lists"
    -o "Dir::Cache=$apt_dir/cache"
    # Root's own download into a private directory: no drop to the _apt user, so neither a /tmp nor an $out that
    # _apt cannot write to stops it.
    -o "APT::Sandbox::User=root"
)

dl="$out/download"
mkdir -p "$dl"
if ! ls "$dl"/util-linux_*.dsc >/dev/null 2>&1; then
    echo "build-static-libmount: fetching util-linux $version source from $suite"
    apt-get "${apt_opts[@]}" -qq update
    (cd "$dl" && apt-get "${apt_opts[@]}" -qq source --download-only "util-linux=$version")
fi

rm -rf "$out/src"
dpkg-source --no-check -x "$(ls "$dl"/util-linux_*.dsc | head -n 1)" "$out/src" >/dev/null

cd "$out/src"
# Debian's patches touch configure.ac (an install-time tty option, irrelevant to the libraries),
# which makes make want to rerun automake. The shipped configure and Makefile.in are what we want:
# give the patched autotools inputs the timestamp of the generated files so nothing regenerates.
find . \( -name configure.ac -o -name '*.am' -o -name '*.m4' \) -newer configure \
    -exec touch -r aclocal.m4 {} +
echo "build-static-libmount: configuring"
./configure --quiet \
    --disable-all-programs --enable-libmount --enable-libblkid \
    --enable-static --disable-shared \
    --without-selinux --without-udev --without-systemd --disable-nls --without-python \
    >"$out/configure.log" 2>&1 || { tail -n 30 "$out/configure.log" >&2; exit 1; }
echo "build-static-libmount: compiling libmount.la libblkid.la"
make -j"$(nproc)" libmount.la libblkid.la >"$out/make.log" 2>&1 || { tail -n 30 "$out/make.log" >&2; exit 1; }

test -f "$libs/libmount.a" && test -f "$libs/libblkid.a"
echo "$libs"
