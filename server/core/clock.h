// The wall clock labcm stamps stored rows and events with: milliseconds since the epoch.
// Pure decisions (registrar, allocator) take the time as an argument instead.
#pragma once

#include <chrono>
#include <cstdint>

namespace labcm {

inline std::int64_t wallClockMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

} // namespace labcm
