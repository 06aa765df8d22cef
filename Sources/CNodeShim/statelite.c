#define _GNU_SOURCE
#include "CNodeShimStatelite.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

int nodeinit_openat2(int dirfd, const char *path, int flags, unsigned int mode, unsigned long long resolve) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = (unsigned long long)(unsigned int)flags;
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
  how.resolve = resolve;
  return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}
unsigned long long nodeinit_resolve_in_root(void) { return RESOLVE_IN_ROOT; }
unsigned long long nodeinit_resolve_beneath(void) { return RESOLVE_BENEATH; }
unsigned long long nodeinit_resolve_no_magiclinks(void) { return RESOLVE_NO_MAGICLINKS; }
unsigned long long nodeinit_resolve_no_symlinks(void) { return RESOLVE_NO_SYMLINKS; }
int nodeinit_o_path(void) { return O_PATH; }

int nodeinit_clone_tree(int fd, int recursive) {
  unsigned int flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
  return (int)syscall(SYS_open_tree, fd, "", flags);
}

int nodeinit_tree_set_readonly(int fd, int recursive) {
  struct mount_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.attr_set = MOUNT_ATTR_RDONLY;
  return (int)syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof attr);
}

int nodeinit_attach_tree(int fromfd, int tofd) {
  return (int)syscall(SYS_move_mount, fromfd, "", tofd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

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
