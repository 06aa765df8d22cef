#include "CNodeShimXattr.h"
#include <sys/xattr.h>

ssize_t nodeinit_llistxattr(const char *path, char *list, size_t size) { return llistxattr(path, list, size); }
ssize_t nodeinit_lgetxattr(const char *path, const char *name, void *value, size_t size) {
  return lgetxattr(path, name, value, size);
}
int nodeinit_lsetxattr(const char *path, const char *name, const void *value, size_t size) {
  return lsetxattr(path, name, value, size, 0);
}
ssize_t nodeinit_flistxattr(int fd, char *list, size_t size) { return flistxattr(fd, list, size); }
ssize_t nodeinit_fgetxattr(int fd, const char *name, void *value, size_t size) {
  return fgetxattr(fd, name, value, size);
}
int nodeinit_fsetxattr(int fd, const char *name, const void *value, size_t size) {
  return fsetxattr(fd, name, value, size, 0);
}
