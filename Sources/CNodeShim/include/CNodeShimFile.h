// File calls and constants glibc declares only under _GNU_SOURCE: the O_PATH open flag, the lseek whence
// values SEEK_DATA/SEEK_HOLE and mkostemp(3).
#ifndef CNODESHIM_FILE_H
#define CNODESHIM_FILE_H

int nodeinit_o_path(void);
int nodeinit_seek_data(void);
int nodeinit_seek_hole(void);
/// mkostemp(template, O_CLOEXEC).
int nodeinit_mkstemp_cloexec(char *path_template);

#endif
