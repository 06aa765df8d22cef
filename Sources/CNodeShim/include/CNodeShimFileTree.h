// File-tree helpers for NodeSys/FileTree: xattr calls (sys/xattr.h is not in Swift's Glibc module)
// and the Linux lseek whence values SEEK_DATA/SEEK_HOLE (only visible under _GNU_SOURCE).
#ifndef CNODESHIM_FILETREE_H
#define CNODESHIM_FILETREE_H
#include <sys/types.h>

/// llistxattr(2) / lgetxattr(2) / lsetxattr(2): never follow a final symlink.
ssize_t nodeinit_llistxattr(const char *path, char *list, size_t size);
ssize_t nodeinit_lgetxattr(const char *path, const char *name, void *value, size_t size);
int nodeinit_lsetxattr(const char *path, const char *name, const void *value, size_t size);
/// flistxattr(2) / fgetxattr(2) / fsetxattr(2) on an open (non-O_PATH) descriptor.
ssize_t nodeinit_flistxattr(int fd, char *list, size_t size);
ssize_t nodeinit_fgetxattr(int fd, const char *name, void *value, size_t size);
int nodeinit_fsetxattr(int fd, const char *name, const void *value, size_t size);
int nodeinit_seek_data(void);
int nodeinit_seek_hole(void);

#endif
