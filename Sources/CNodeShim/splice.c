#define _GNU_SOURCE
#include "CNodeShimSplice.h"
#include <fcntl.h>
#include <sys/ioctl.h>

long nodeinit_splice(int in, int out, size_t count, unsigned int flags) {
  return (long)splice(in, NULL, out, NULL, count, flags);
}

int nodeinit_pending_bytes(int fd) {
  int count = 0;
  if (ioctl(fd, FIONREAD, &count) == -1) return -1;
  return count;
}
