// reboot(2) and its RB_* commands, which are macros Swift cannot see.
#ifndef CNODESHIM_REBOOT_H
#define CNODESHIM_REBOOT_H

/// reboot(2) with one of the LINUX_REBOOT_CMD_* values as `cmd`.
int nodeinit_reboot(int cmd);
int nodeinit_reboot_cmd_restart(void);
int nodeinit_reboot_cmd_power_off(void);
int nodeinit_reboot_cmd_halt(void);
/// Boots the kernel loaded by kexec_load(2); the call fails (EINVAL) when none is loaded.
int nodeinit_reboot_cmd_kexec(void);

#endif
