# nodeinit: the single entry point. Every target installs what it needs first.
SHELL := /bin/bash
SWIFT ?= swift
BUILD := build

.PHONY: deps build static initramfs test unit-test vm-test demo bench-boot bench-capture clean

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build

# Unit and host integration tests (Swift Testing), then the QEMU system tests.
test: deps unit-test vm-test

unit-test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

clean:
	rm -rf .build $(BUILD)
