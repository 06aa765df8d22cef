// Node-save agent: scheduling priority calls Swift cannot make directly.
#ifndef CNODESHIM_AGENT_H
#define CNODESHIM_AGENT_H

/// Puts the calling thread in the idle I/O class (ioprio_set(IOPRIO_WHO_PROCESS, gettid(), IOPRIO_CLASS_IDLE)):
/// glibc has no wrapper and syscall(2) is variadic. Returns 0, or -1 with errno set.
int nodeinit_set_thread_io_priority_idle(void);
/// setpriority(PRIO_PROCESS, gettid(), nice): on Linux this lowers the calling thread only.
int nodeinit_set_thread_nice(int nice);

/// ioprio_get(IOPRIO_WHO_PROCESS, gettid()) >> 13: the calling thread's I/O class (3 = idle), or -1.
int nodeinit_get_thread_io_class(void);
/// getpriority(PRIO_PROCESS, gettid()): the calling thread's nice value.
int nodeinit_get_thread_nice(void);
struct sockaddr;
/// accept4(fd, addr, len, SOCK_CLOEXEC): a _GNU_SOURCE call the Swift Glibc module does not import.
int nodeinit_accept_cloexec(int fd, struct sockaddr *address, unsigned int *length);
/// mkostemp(template, O_CLOEXEC): also _GNU_SOURCE only.
int nodeinit_mkstemp_cloexec(char *path_template);
/// POSIX_SPAWN_SETSID, defined by glibc only under _GNU_SOURCE.
short nodeinit_posix_spawn_setsid_flag(void);

#endif
