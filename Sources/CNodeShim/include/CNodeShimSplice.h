// Pipes and splice(2): splice is declared only under _GNU_SOURCE, and FIONREAD needs ioctl(2), which is
// variadic; both are what Swift cannot call directly.
#ifndef CNODESHIM_SPLICE_H
#define CNODESHIM_SPLICE_H

#include <stddef.h>

/// The SPLICE_F_* flags (linux/splice.h).
enum {
  NODEINIT_SPLICE_MOVE = 1,
  NODEINIT_SPLICE_NONBLOCK = 2,
  NODEINIT_SPLICE_MORE = 4,
};

/// splice(in, NULL, out, NULL, count, flags): moves up to `count` bytes between a pipe and another descriptor
/// at their current positions; -1 with errno set on failure.
long nodeinit_splice(int in, int out, size_t count, unsigned int flags);

/// Bytes waiting in a pipe (ioctl FIONREAD); -1 with errno set on failure.
int nodeinit_pending_bytes(int fd);

#endif
