#define _GNU_SOURCE
#include "CNodeShimRandom.h"
#include <sys/random.h>

long nodeinit_getrandom_nonblock(void *buffer, size_t length) {
  return (long)getrandom(buffer, length, GRND_NONBLOCK);
}

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

static int deterministic_hashing_set = 0;

// Runs before the Swift runtime's own static initializers (priority 101 < the default): the runtime seeds its hash
// function with a blocking getrandom() at load, which as PID 1 on a machine without RDRAND waits for the kernel's
// CRNG (about 1 s under QEMU TCG, longer on some boards). When PID 1 finds the CRNG not ready, it asks the runtime
// for its fixed seed (SWIFT_DETERMINISTIC_HASHING) instead; EarlyProcess removes the variable at once, so the agent,
// the shell and every other child are seeded randomly as usual.
__attribute__((constructor(101))) static void nodeinit_avoid_crng_wait_in_pid1(void) {
  if (getpid() != 1) return;
  unsigned char byte;
  if (getrandom(&byte, 1, GRND_NONBLOCK) == 1) return;
  if (errno == EAGAIN) {
    setenv("SWIFT_DETERMINISTIC_HASHING", "1", 1);
    deterministic_hashing_set = 1;
  }
}

int nodeinit_take_deterministic_hashing_flag(void) {
  int was_set = deterministic_hashing_set;
  if (was_set) unsetenv("SWIFT_DETERMINISTIC_HASHING");
  deterministic_hashing_set = 0;
  return was_set;
}
