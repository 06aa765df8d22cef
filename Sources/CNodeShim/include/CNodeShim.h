// The C shim: only what Swift cannot call directly (variadic syscall(2), ioctl(2), macros, kernel structs,
// _GNU_SOURCE-only declarations), one header per kernel interface.
#ifndef CNODESHIM_H
#define CNODESHIM_H

#include "CNodeShimDeviceNumber.h"
#include "CNodeShimFile.h"
#include "CNodeShimLoop.h"
#include "CNodeShimMII.h"
#include "CNodeShimModule.h"
#include "CNodeShimMountAPI.h"
#include "CNodeShimOpenat2.h"
#include "CNodeShimProcess.h"
#include "CNodeShimRandom.h"
#include "CNodeShimReboot.h"
#include "CNodeShimSocket.h"
#include "CNodeShimSplice.h"
#include "CNodeShimTreeRemoval.h"
#include "CNodeShimXattr.h"

#endif
