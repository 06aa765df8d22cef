#define _GNU_SOURCE
#include "CNodeShimProcess.h"
#include <sys/syscall.h>
#include <sys/resource.h>
#include <unistd.h>
#include <errno.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <string.h>
#include <fcntl.h>
#include <time.h>

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

// glibc calls .init_array functions with (argc, argv, envp), static binaries included: keep argv for
// nodeinit_saved_arguments. The strings live on the initial stack for the whole process.
static int saved_argument_count = 0;
static char *const *saved_arguments = 0;
// -1: not asked (no --root-fd); 0: entered; else the errno of the failed fchdir/chroot.
static int handed_root_status = -1;

// A descriptor number: digits only, at most 9 of them; -1 otherwise.
static int nodeinit_descriptor_number(const char *text) {
  if (!text || !*text) return -1;
  int value = 0, digits = 0;
  for (const char *c = text; *c; c++) {
    if (*c < '0' || *c > '9' || ++digits > 9) return -1;
    value = value * 10 + (*c - '0');
  }
  return value;
}

// The value of `--name N` or `--name=N` among the options after argv[1] (up to `--`); -1 when absent.
static int nodeinit_descriptor_option(int argc, char **argv, const char *name) {
  size_t length = strlen(name);
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) break;
    if (strncmp(argv[i], name, length) != 0) continue;
    if (argv[i][length] == '=') return nodeinit_descriptor_number(argv[i] + length + 1);
    if (argv[i][length] == 0 && i + 1 < argc) return nodeinit_descriptor_number(argv[i + 1]);
  }
  return -1;
}

// `nodeinit agent --root-fd N [--ready-fd M]` enters the root open on N here, before the Swift runtime's own
// initializers (priority 101): the runtime seeds its hashing with a blocking getrandom() that can wait a second or
// more for the kernel's CRNG, and PID 1 switches root and execs the image's init meanwhile. An image init that
// pivots its own root (walt-init) moves only the processes already inside the root it pivots, so the agent must be
// there first. Closing M tells the init the root is entered (or failed, which the agent then reports).
__attribute__((constructor(101))) static void nodeinit_save_arguments(int argc, char **argv, char **envp) {
  (void)envp;
  saved_argument_count = argc;
  saved_arguments = argv;
  if (argc < 2 || strcmp(argv[1], "agent") != 0) return;
  int root = nodeinit_descriptor_option(argc, argv, "--root-fd");
  int ready = nodeinit_descriptor_option(argc, argv, "--ready-fd");
  if (root >= 0) {
    handed_root_status = 0;
    if (fchdir(root) != 0 || chroot(".") != 0 || chdir("/") != 0) handed_root_status = errno;
    if (handed_root_status == 0) close(root);
  }
  if (ready >= 0) close(ready);
  // The static Swift runtime aborts ("Unable to obtain Swift runtime path") without /proc/self/exe, and the new root
  // gets its /proc only when PID 1's switch_root moves it in: wait for that here, in C, 20 ms at a time, at most
  // two minutes (then the runtime reports it).
  if (root >= 0 && handed_root_status == 0) {
    struct timespec pause = {0, 20 * 1000 * 1000};
    for (int i = 0; i < 6000 && access("/proc/self/exe", F_OK) != 0; i++) nanosleep(&pause, 0);
  }
}

char *const *nodeinit_saved_arguments(int *count) {
  *count = saved_arguments ? saved_argument_count : 0;
  return saved_arguments;
}

int nodeinit_handed_root_status(void) { return handed_root_status; }

int nodeinit_pipe_cloexec(int ends[2]) { return pipe2(ends, O_CLOEXEC); }
