// The nodeinit version, the one place it is defined. `make static` (scripts/build-static.sh) passes
// -DNODEINIT_VERSION="<git describe>" so a built /init names the commit it came from; a plain `swift build`
// outside a git checkout gets the release number below.
#ifndef NODEINIT_VERSION
#define NODEINIT_VERSION "0.2.0"
#endif

static const char *const nodeinit_version_string = NODEINIT_VERSION;
