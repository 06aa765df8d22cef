#define _GNU_SOURCE
#include "CNodeShim.h"
#include <sys/syscall.h>
#include <sys/reboot.h>
#include <sys/prctl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

int nodeinit_finit_module(int fd, const char *params, int flags) {
  return (int)syscall(SYS_finit_module, fd, params, flags);
}
int nodeinit_reboot(int cmd) { return reboot(cmd); }
int nodeinit_reboot_cmd_restart(void) { return RB_AUTOBOOT; }
int nodeinit_reboot_cmd_power_off(void) { return RB_POWER_OFF; }
int nodeinit_reboot_cmd_halt(void) { return RB_HALT_SYSTEM; }
int nodeinit_set_child_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }
unsigned int nodeinit_major(dev_t dev) { return major(dev); }
unsigned int nodeinit_minor(dev_t dev) { return minor(dev); }
dev_t nodeinit_makedev(unsigned int ma, unsigned int mi) { return makedev(ma, mi); }
