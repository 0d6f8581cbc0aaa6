/* The orchestration engine (see engine.h).  Being written. */
#include "core/engine.h"
