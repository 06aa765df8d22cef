// Loop block devices: the /dev/loop-control and LOOP_* ioctls with struct loop_config from linux/loop.h.
#ifndef CNODESHIM_LOOP_H
#define CNODESHIM_LOOP_H

/// Attaches `backing_fd` to a free loop device (LOOP_CTL_GET_FREE, then LOOP_CONFIGURE, falling back to
/// LOOP_SET_FD + LOOP_SET_STATUS64 on kernels without it), autoclear set. Writes the loop device number
/// (/dev/loopN) to `*number` and returns an open fd on the loop device, or -1 with errno.
int nodeinit_loop_attach(int backing_fd, int read_only, int *number);
/// LOOP_CLR_FD on an open loop device fd.
int nodeinit_loop_detach(int loop_fd);

#endif
