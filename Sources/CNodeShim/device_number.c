#include "CNodeShimDeviceNumber.h"
#include <sys/sysmacros.h>

unsigned int nodeinit_major(dev_t dev) { return major(dev); }
unsigned int nodeinit_minor(dev_t dev) { return minor(dev); }
dev_t nodeinit_makedev(unsigned int ma, unsigned int mi) { return makedev(ma, mi); }
