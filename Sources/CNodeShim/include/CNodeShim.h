// Only what Swift cannot call directly: variadic syscall(2), prctl(2), reboot(2), makedev/major/minor.
#ifndef CNODESHIM_H
#define CNODESHIM_H
#include <sys/types.h>
#include "CNodeShimAgent.h"

/// finit_module(2): glibc has no wrapper and syscall(2) is variadic.
int nodeinit_finit_module(int fd, const char *params, int flags);
/// reboot(2) with one of the LINUX_REBOOT_CMD_* values as `cmd`; Swift cannot see RB_* macros.
int nodeinit_reboot(int cmd);
int nodeinit_reboot_cmd_restart(void);
int nodeinit_reboot_cmd_power_off(void);
int nodeinit_reboot_cmd_halt(void);
/// prctl(PR_SET_CHILD_SUBREAPER, 1).
int nodeinit_set_child_subreaper(void);
unsigned int nodeinit_major(dev_t dev);
unsigned int nodeinit_minor(dev_t dev);
dev_t nodeinit_makedev(unsigned int major, unsigned int minor);
#include "CNodeShimFileTree.h"
#include "CNodeShimStatelite.h"

#endif
