#define _GNU_SOURCE
#include "CNodeShimOpenat2.h"
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

int nodeinit_openat2(int dirfd, const char *path, int flags, unsigned int mode, unsigned long long resolve) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = (unsigned long long)(unsigned int)flags;
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
  how.resolve = resolve;
  return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}
unsigned long long nodeinit_resolve_in_root(void) { return RESOLVE_IN_ROOT; }
unsigned long long nodeinit_resolve_no_magiclinks(void) { return RESOLVE_NO_MAGICLINKS; }
