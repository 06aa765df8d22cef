#include "CNodeShimReboot.h"
#include <sys/reboot.h>
#include <unistd.h>

int nodeinit_reboot(int cmd) { return reboot(cmd); }
int nodeinit_reboot_cmd_restart(void) { return RB_AUTOBOOT; }
int nodeinit_reboot_cmd_power_off(void) { return RB_POWER_OFF; }
int nodeinit_reboot_cmd_halt(void) { return RB_HALT_SYSTEM; }
int nodeinit_reboot_cmd_kexec(void) { return RB_KEXEC; }
