# nodeinit: the single entry point. Every target installs what it needs first.
SHELL := /bin/bash
SWIFT ?= swift
BUILD := build

.PHONY: deps build static initramfs images test unit-test vm-test vm-test-full demo bench-boot bench-storm bench-capture bench-hostile clean

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build

# Unit and host integration tests (Swift Testing), then the QEMU system tests.
test: deps unit-test vm-test

unit-test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

# The static, stripped init: build/nodeinit (static libmount/libblkid built once into build/util-linux).
static: deps
	@scripts/build-static.sh

# The initramfs: make initramfs [KVER=...] [MODULES_DIR=...] [OUT=...] [INIT=...] [LEVEL=...] [FIRMWARE_DIR=...]
# [WITHOUT_FIRMWARE=1] [EXCLUDE_MODULES="..."] (default kernel: the Debian one linux-image-amd64 depends on, cached
# in build/kernel; Debian's NIC firmware: FIRMWARE_DIR from scripts/fetch-firmware.sh).
initramfs: static
	@KVER="$(KVER)" MODULES_DIR="$(MODULES_DIR)" OUT="$(OUT)" INIT="$(INIT)" LEVEL="$(LEVEL)" \
		FIRMWARE_DIR="$(FIRMWARE_DIR)" WITHOUT_FIRMWARE="$(WITHOUT_FIRMWARE)" EXCLUDE_MODULES="$(EXCLUDE_MODULES)" \
		initramfs/build.sh

# The busybox images the system tests and the demo export over NFS (build/images).
images: deps
	@python3 Tests/System/vmtool.py images

# QEMU system tests (Tests/System, pytest) within CI's budget: all but those marked `full` (PYTEST_ARGS="-k nfsv3"
# narrows them). vm-test-full runs every one.
vm-test: static initramfs images
	python3 -m pytest -v --durations=0 -m "not full" Tests/System $(PYTEST_ARGS)

vm-test-full: static initramfs images
	python3 -m pytest -v --durations=0 Tests/System $(PYTEST_ARGS)

# Boots a demo node in QEMU from a loopback NFS server and shows its boot phases.
demo: static initramfs images
	python3 Tests/System/vmtool.py demo
	python3 Tests/System/vmtool.py demo-save

# N boots (default 5) of each initramfs on virtio-net and e1000: nodeinit, the hand-written busybox script and
# initramfs-tools + overlayroot (DRACUT=1 adds dracut) on the test image (initramfs stage, per-phase breakdown,
# sizes), then nodeinit and initramfs-tools on the Debian 12 systemd image (DEBIAN_N= boots, default N: initramfs
# stage, time to multi-user, NFS requests, nodeinit's before issue 15's mount options). BENCH_ARGS= passes more
# (e.g. "--nic e1000 --no-debian"; Tests/System/vmtool.py bench --help).
bench-boot: static initramfs images
	python3 Tests/System/vmtool.py bench --boots $(or $(N),5) $(if $(CPU),--cpu $(CPU)) $(if $(DRACUT),--dracut) \
		$(if $(DEBIAN_N),--debian-boots $(DEBIAN_N)) $(BENCH_ARGS)

# N Debian 12 nodes (default 3) boot at once from one ganesha: time to multi-user and NFS requests per node, nodeinit
# beside initramfs-tools + overlayroot.
bench-storm: static initramfs images
	python3 Tests/System/vmtool.py storm --nodes $(or $(N),3) $(if $(CPU),--cpu $(CPU))

# Overlay capture throughput, time to first byte and peak RSS against GNU tar and busybox tar (release build).
bench-capture: deps
	$(SWIFT) build -c release --product nodeinit
	python3 scripts/bench-capture.py --nodeinit .build/release/nodeinit

# Peak RSS of apply, pull and save fed a 4 GiB-of-zeros layer, gzip and zstd (SIZE=, LIMIT_MIB=; release build).
bench-hostile: deps
	$(SWIFT) build -c release --product nodeinit
	python3 scripts/bench-hostile.py --nodeinit .build/release/nodeinit

clean:
	rm -rf .build .build-static $(BUILD)
