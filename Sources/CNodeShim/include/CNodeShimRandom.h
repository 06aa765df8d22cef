// getrandom(2) that never blocks: PID 1 runs before the kernel's random generator may be ready.
#ifndef CNODESHIM_RANDOM_H
#define CNODESHIM_RANDOM_H

#include <stddef.h>

/// getrandom(buffer, length, GRND_NONBLOCK): the byte count, or -1 with errno (EAGAIN: not initialised yet).
long nodeinit_getrandom_nonblock(void *buffer, size_t length);

#endif
