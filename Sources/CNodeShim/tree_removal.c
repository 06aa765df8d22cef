#define _GNU_SOURCE
#include "CNodeShimTreeRemoval.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NODEINIT_TREE_MAX_DEPTH 64

// getdents64 records (glibc's struct dirent64 has the same layout; the kernel's is not exported).
struct nodeinit_dirent64 {
  unsigned long long d_ino;
  long long d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

// Only system calls and stack buffers: safe in a child forked from a threaded process. Removing entries while
// reading the directory is fine on rootfs (ramfs/tmpfs keep a cursor); the loop ends when a read returns nothing.
static long remove_below(int directory, dev_t device, int depth) {
  if (depth >= NODEINIT_TREE_MAX_DEPTH) return 0;
  char buffer[4096];
  long removed = 0;
  for (;;) {
    long count = syscall(SYS_getdents64, directory, buffer, sizeof buffer);
    if (count < 0 && errno == EINTR) continue;
    if (count <= 0) return removed;
    for (long offset = 0; offset < count;) {
      struct nodeinit_dirent64 *entry = (struct nodeinit_dirent64 *)(buffer + offset);
      offset += entry->d_reclen;
      const char *name = entry->d_name;
      if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) continue;
      struct stat info;
      if (fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) != 0 || info.st_dev != device) continue;
      if (S_ISDIR(info.st_mode)) {
        int child = openat(directory, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (child >= 0) {
          removed += remove_below(child, device, depth + 1);
          close(child);
        }
        if (unlinkat(directory, name, AT_REMOVEDIR) == 0) removed++;
      } else if (unlinkat(directory, name, 0) == 0) {
        removed++;
      }
    }
  }
}

long nodeinit_remove_tree(int directory, dev_t device) {
  // A descriptor of its own: the reads move its offset, the caller's stays where it was.
  int listing = openat(directory, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (listing < 0) return 0;
  long removed = remove_below(listing, device, 0);
  close(listing);
  return removed;
}

// The child's side of both forks: `directory` as descriptor 3, every other descriptor closed, the lowest CPU
// priority. 0 or -1 (dup2 failed).
static int become_successor(int directory) {
  if (directory != 3 && dup2(directory, 3) < 0) return -1;
  for (int fd = 0; fd < 3; fd++) close(fd);
  if (syscall(SYS_close_range, 4U, ~0U, 0U) != 0) {
    for (int fd = 4; fd < 1024; fd++) close(fd);
  }
  setpriority(PRIO_PROCESS, 0, 19);
  return 0;
}

pid_t nodeinit_remove_tree_in_child(int directory, dev_t device) {
  // _Fork (glibc 2.34): no atfork handlers run (libdispatch registers some), as a signal handler's fork would.
  pid_t pid = _Fork();
  if (pid != 0) return pid;
  // The child: no console (the image's init owns it), no descriptor but the old root's, the lowest CPU priority.
  if (become_successor(directory) != 0) _exit(1);
  nodeinit_remove_tree(3, device);
  _exit(0);
}

pid_t nodeinit_fork_successor(int directory) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  if (become_successor(directory) != 0) _exit(1);
  // Ordinary code runs next: standard streams that exist (writes to them are lost, not failures).
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    for (int fd = 0; fd < 3; fd++) {
      if (null != fd) dup2(null, fd);
    }
    if (null > 3) close(null);
  }
  return 0;
}
