// libnfs.h uses these types without including their headers.
#include <stdint.h>
#include <time.h>
#include <sys/time.h>
#include <nfsc/libnfs.h>
