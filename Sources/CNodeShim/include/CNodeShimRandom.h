// getrandom(2) that never blocks: PID 1 runs before the kernel's random generator may be ready.
#ifndef CNODESHIM_RANDOM_H
#define CNODESHIM_RANDOM_H

#include <stddef.h>

/// getrandom(buffer, length, GRND_NONBLOCK): the byte count, or -1 with errno (EAGAIN: not initialised yet).
long nodeinit_getrandom_nonblock(void *buffer, size_t length);

/// 1 when PID 1 started before the kernel's CRNG was ready and the Swift runtime was given its fixed hash seed
/// (random.c); removes SWIFT_DETERMINISTIC_HASHING from the environment so children are seeded randomly. Once.
int nodeinit_take_deterministic_hashing_flag(void);

#endif
