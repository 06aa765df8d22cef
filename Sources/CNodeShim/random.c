#define _GNU_SOURCE
#include "CNodeShimRandom.h"
#include <sys/random.h>

long nodeinit_getrandom_nonblock(void *buffer, size_t length) {
  return (long)getrandom(buffer, length, GRND_NONBLOCK);
}
