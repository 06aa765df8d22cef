// Process and thread control Swift cannot reach: prctl(2), per-thread priority (setpriority/getpriority and
// ioprio_set/ioprio_get on gettid(), which glibc does not wrap) and POSIX_SPAWN_SETSID (a _GNU_SOURCE flag).
#ifndef CNODESHIM_PROCESS_H
#define CNODESHIM_PROCESS_H

/// prctl(PR_SET_CHILD_SUBREAPER, 1).

/// Puts the calling thread in the idle I/O class (ioprio_set(IOPRIO_WHO_PROCESS, gettid(), IOPRIO_CLASS_IDLE)):
/// glibc has no wrapper and syscall(2) is variadic. Returns 0, or -1 with errno set.
int nodeinit_set_thread_io_priority_idle(void);
/// setpriority(PRIO_PROCESS, gettid(), nice): on Linux this lowers the calling thread only.
int nodeinit_set_thread_nice(int nice);

/// ioprio_get(IOPRIO_WHO_PROCESS, gettid()) >> 13: the calling thread's I/O class (3 = idle), or -1.
int nodeinit_get_thread_io_class(void);
/// getpriority(PRIO_PROCESS, gettid()): the calling thread's nice value.
int nodeinit_get_thread_nice(void);

/// The width of the terminal on `fd` (ioctl TIOCGWINSZ, which Swift cannot call: ioctl is variadic), or 0.
int nodeinit_terminal_columns(int fd);

/// POSIX_SPAWN_SETSID, defined by glibc only under _GNU_SOURCE.
short nodeinit_posix_spawn_setsid_flag(void);

/// The process's argv as glibc handed it to the constructors (process.c), or NULL with *count 0 when no constructor
/// saw it. The static Swift runtime reads its CommandLine.arguments from /proc/self/cmdline, which is missing in
/// PID 1 before /proc is mounted and in the agent, whose /proc moves into the new root at switch_root.
char *const *nodeinit_saved_arguments(int *count);

/// What the constructor did with `agent --root-fd N` (process.c): -1 not asked, 0 entered the root (and closed N),
/// else the errno of the failed fchdir/chroot (N left open).
int nodeinit_handed_root_status(void);

/// pipe2(ends, O_CLOEXEC) (a _GNU_SOURCE declaration): 0, or -1 with errno.
int nodeinit_pipe_cloexec(int ends[2]);

#endif
