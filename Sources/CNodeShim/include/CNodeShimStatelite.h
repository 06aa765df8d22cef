// Path resolution confined to a root (openat2), fd-based mounts (open_tree, move_mount, mount_setattr)
// and loop device setup: the calls statelite and the persistent overlay need and Swift cannot reach
// (variadic syscall(2), ioctl(2) and kernel structs).
#ifndef CNODESHIM_STATELITE_H
#define CNODESHIM_STATELITE_H
#include <sys/types.h>

/// openat2(2) with only `flags`, `mode` and `resolve` set. Returns the fd or -1 with errno.
int nodeinit_openat2(int dirfd, const char *path, int flags, unsigned int mode, unsigned long long resolve);
unsigned long long nodeinit_resolve_in_root(void);
unsigned long long nodeinit_resolve_beneath(void);
unsigned long long nodeinit_resolve_no_magiclinks(void);
unsigned long long nodeinit_resolve_no_symlinks(void);
int nodeinit_o_path(void);

/// open_tree(dirfd, "", OPEN_TREE_CLONE | AT_EMPTY_PATH [| AT_RECURSIVE]): a detached copy of the mount
/// at the already-resolved `fd` (a bind mount not yet attached anywhere). -1 with errno on failure.
int nodeinit_clone_tree(int fd, int recursive);
/// mount_setattr(fd, "", AT_EMPTY_PATH [| AT_RECURSIVE], MOUNT_ATTR_RDONLY): make a detached tree read-only.
int nodeinit_tree_set_readonly(int fd, int recursive);
/// move_mount(fromfd, "", tofd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH): attach the detached
/// tree `fromfd` on the already-resolved directory or file `tofd`.
int nodeinit_attach_tree(int fromfd, int tofd);

/// Attaches `backing_fd` to a free loop device (LOOP_CTL_GET_FREE, then LOOP_CONFIGURE, falling back to
/// LOOP_SET_FD + LOOP_SET_STATUS64 on kernels without it), autoclear set. Writes the loop device number
/// (/dev/loopN) to `*number` and returns an open fd on the loop device, or -1 with errno.
int nodeinit_loop_attach(int backing_fd, int read_only, int *number);
/// LOOP_CLR_FD on an open loop device fd.
int nodeinit_loop_detach(int loop_fd);

#endif
