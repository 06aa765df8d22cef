#define _GNU_SOURCE
#include "CNodeShimModule.h"
#include <sys/syscall.h>
#include <unistd.h>

int nodeinit_finit_module(int fd, const char *params, int flags) {
  return (int)syscall(SYS_finit_module, fd, params, flags);
}
