// The descriptor-based mount API (open_tree(2), mount_setattr(2), move_mount(2)): no glibc wrappers, and the
// calls take kernel structs and flags from linux/mount.h.
#ifndef CNODESHIM_MOUNT_API_H
#define CNODESHIM_MOUNT_API_H

/// open_tree(dirfd, "", OPEN_TREE_CLONE | AT_EMPTY_PATH [| AT_RECURSIVE]): a detached copy of the mount
/// at the already-resolved `fd` (a bind mount not yet attached anywhere). -1 with errno on failure.
int nodeinit_clone_tree(int fd, int recursive);
/// mount_setattr(fd, "", AT_EMPTY_PATH [| AT_RECURSIVE], MOUNT_ATTR_RDONLY): make a detached tree read-only.
int nodeinit_tree_set_readonly(int fd, int recursive);
/// move_mount(fromfd, "", tofd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH): attach the detached
/// tree `fromfd` on the already-resolved directory or file `tofd`.
int nodeinit_attach_tree(int fromfd, int tofd);

#endif
