#define _GNU_SOURCE
#include "CNodeShimLoop.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

int nodeinit_loop_attach(int backing_fd, int read_only, int *number) {
  int control = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
  if (control < 0) return -1;
  for (int tries = 0; tries < 8; tries++) {
    int free_number = ioctl(control, LOOP_CTL_GET_FREE);
    if (free_number < 0) {
      int saved = errno;
      close(control);
      errno = saved;
      return -1;
    }
    char path[32];
    snprintf(path, sizeof path, "/dev/loop%d", free_number);
    int loop = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (loop < 0 && errno == ENOENT) {
      // No devtmpfs node yet (or no devtmpfs): make it ourselves.
      mknod(path, S_IFBLK | 0600, makedev(7, (unsigned)free_number));
      loop = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    }
    if (loop < 0) {
      int saved = errno;
      close(control);
      errno = saved;
      return -1;
    }
    struct loop_config config;
    memset(&config, 0, sizeof config);
    config.fd = (unsigned int)backing_fd;
    config.info.lo_flags = LO_FLAGS_AUTOCLEAR | (read_only ? LO_FLAGS_READ_ONLY : 0);
    int rc = ioctl(loop, LOOP_CONFIGURE, &config);
    if (rc < 0 && (errno == EINVAL || errno == ENOTTY)) {
      rc = ioctl(loop, LOOP_SET_FD, backing_fd);
      if (rc == 0) {
        struct loop_info64 info;
        memset(&info, 0, sizeof info);
        info.lo_flags = LO_FLAGS_AUTOCLEAR;
        ioctl(loop, LOOP_SET_STATUS64, &info);
      }
    }
    if (rc == 0) {
      close(control);
      *number = free_number;
      return loop;
    }
    int saved = errno;
    close(loop);
    if (saved != EBUSY) {
      close(control);
      errno = saved;
      return -1;
    }
    // Another process took this device between GET_FREE and CONFIGURE: ask again.
  }
  close(control);
  errno = EBUSY;
  return -1;
}

int nodeinit_loop_detach(int loop_fd) { return ioctl(loop_fd, LOOP_CLR_FD, 0); }
