// Thread names, as `top -H`, `ps -L` and perf show them, and the benchmarks' CPU per thread.
#pragma once

#include <pthread.h>

namespace labcm {

/// @brief Names the calling thread (at most 15 characters are kept).
inline void nameThisThread(const char* name) { ::pthread_setname_np(::pthread_self(), name); }

} // namespace labcm
