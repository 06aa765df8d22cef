#define _GNU_SOURCE
#include "CNodeShimSocket.h"
#include <sys/socket.h>

int nodeinit_accept_stream(int fd, struct sockaddr *address, unsigned int *length) {
  socklen_t len = (socklen_t)*length;
  int result = accept4(fd, address, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
  *length = (unsigned int)len;
  return result;
}
