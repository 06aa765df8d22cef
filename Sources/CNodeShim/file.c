#define _GNU_SOURCE
#include "CNodeShimFile.h"
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

int nodeinit_o_path(void) { return O_PATH; }
int nodeinit_seek_data(void) { return SEEK_DATA; }
int nodeinit_seek_hole(void) { return SEEK_HOLE; }
int nodeinit_mkstemp_cloexec(char *path_template) { return mkostemp(path_template, O_CLOEXEC); }
