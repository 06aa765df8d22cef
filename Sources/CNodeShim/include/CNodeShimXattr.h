// Extended attributes: sys/xattr.h is not in Swift's Glibc module.
#ifndef CNODESHIM_XATTR_H
#define CNODESHIM_XATTR_H
#include <sys/types.h>

/// llistxattr(2) / lgetxattr(2) / lsetxattr(2): never follow a final symlink.
ssize_t nodeinit_llistxattr(const char *path, char *list, size_t size);
ssize_t nodeinit_lgetxattr(const char *path, const char *name, void *value, size_t size);
int nodeinit_lsetxattr(const char *path, const char *name, const void *value, size_t size);
/// flistxattr(2) / fgetxattr(2) / fsetxattr(2) on an open (non-O_PATH) descriptor.
ssize_t nodeinit_flistxattr(int fd, char *list, size_t size);
ssize_t nodeinit_fgetxattr(int fd, const char *name, void *value, size_t size);
int nodeinit_fsetxattr(int fd, const char *name, const void *value, size_t size);

#endif
