// Freeing the initramfs after switch_root without holding up the image's init. A threaded Swift process must not
// run Swift (or malloc-heavy libc) code in a forked child, so `nodeinit_remove_tree_in_child`'s child lives here, in
// raw system calls; `nodeinit_fork_successor` is for a caller with no other thread, whose child goes on in Swift.
#ifndef CNODESHIM_TREE_REMOVAL_H
#define CNODESHIM_TREE_REMOVAL_H

#include <sys/types.h>

/// Forks a child that removes everything below the directory `directory` on the device `device` (entries on another
/// device, mount points, are left alone; at most 64 levels deep), at nice 19, with every other descriptor closed,
/// then exits. The parent keeps `directory` open and gets the child's pid, or -1 with errno when fork failed.
pid_t nodeinit_remove_tree_in_child(int directory, dev_t device);

/// Forks the process that goes on after PID 1's exec with work of its own before the removal (the device drivers
/// still loading at the switch). In the child, `directory` is descriptor 3, 0-2 are /dev/null (when it opens), every
/// other descriptor is closed and the priority is nice 19; it returns 0 there. The parent gets the child's pid, or
/// -1 with errno. Unlike `nodeinit_remove_tree_in_child`, the child goes on with ordinary (Swift) code, which is
/// only safe when the calling process has no other thread: the caller checks.
pid_t nodeinit_fork_successor(int directory);

/// The same removal in the calling process: the number of entries removed.
long nodeinit_remove_tree(int directory, dev_t device);

#endif
