// openat2(2): path resolution confined to a directory. glibc has no wrapper, syscall(2) is variadic and the
// RESOLVE_* flags come from linux/openat2.h.
#ifndef CNODESHIM_OPENAT2_H
#define CNODESHIM_OPENAT2_H

/// openat2(2) with only `flags`, `mode` and `resolve` set. Returns the fd or -1 with errno.
int nodeinit_openat2(int dirfd, const char *path, int flags, unsigned int mode, unsigned long long resolve);
unsigned long long nodeinit_resolve_in_root(void);
unsigned long long nodeinit_resolve_no_magiclinks(void);

#endif
