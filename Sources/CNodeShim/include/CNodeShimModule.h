// Kernel modules: finit_module(2), which glibc does not wrap (and syscall(2) is variadic).
#ifndef CNODESHIM_MODULE_H
#define CNODESHIM_MODULE_H

/// finit_module(2) on an open module file. Returns 0, or -1 with errno.
int nodeinit_finit_module(int fd, const char *params, int flags);

#endif
