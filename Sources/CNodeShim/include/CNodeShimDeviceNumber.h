// Device numbers: major(3), minor(3), makedev(3) are macros in sys/sysmacros.h.
#ifndef CNODESHIM_DEVICE_NUMBER_H
#define CNODESHIM_DEVICE_NUMBER_H
#include <sys/types.h>

unsigned int nodeinit_major(dev_t dev);
unsigned int nodeinit_minor(dev_t dev);
dev_t nodeinit_makedev(unsigned int major, unsigned int minor);

#endif
