// Empty translation unit: SwiftPM needs one source file in a C target; the version lives in the header.
#include "CBuildVersion.h"
