#define _GNU_SOURCE
#include "CNodeShimProcess.h"
#include <sys/syscall.h>
#include <sys/resource.h>
#include <unistd.h>
#include <errno.h>
#include <spawn.h>
#include <sys/ioctl.h>

// From linux/ioprio.h, which older kernel headers do not ship to user space.
#define NODEINIT_IOPRIO_CLASS_SHIFT 13
#define NODEINIT_IOPRIO_CLASS_IDLE 3
#define NODEINIT_IOPRIO_WHO_PROCESS 1


int nodeinit_set_thread_io_priority_idle(void) {
  pid_t tid = (pid_t)syscall(SYS_gettid);
  int prio = NODEINIT_IOPRIO_CLASS_IDLE << NODEINIT_IOPRIO_CLASS_SHIFT;
  return (int)syscall(SYS_ioprio_set, NODEINIT_IOPRIO_WHO_PROCESS, tid, prio);
}

int nodeinit_set_thread_nice(int nice) {
  pid_t tid = (pid_t)syscall(SYS_gettid);
  return setpriority(PRIO_PROCESS, (id_t)tid, nice);
}

int nodeinit_get_thread_nice(void) {
  pid_t tid = (pid_t)syscall(SYS_gettid);
  errno = 0;
  return getpriority(PRIO_PROCESS, (id_t)tid);
}

int nodeinit_get_thread_io_class(void) {
  pid_t tid = (pid_t)syscall(SYS_gettid);
  int prio = (int)syscall(SYS_ioprio_get, NODEINIT_IOPRIO_WHO_PROCESS, tid);
  return prio < 0 ? -1 : prio >> NODEINIT_IOPRIO_CLASS_SHIFT;
}

short nodeinit_posix_spawn_setsid_flag(void) { return POSIX_SPAWN_SETSID; }

int nodeinit_terminal_columns(int fd) {
  struct winsize size;
  if (ioctl(fd, TIOCGWINSZ, &size) == -1) return 0;
  return size.ws_col;
}
