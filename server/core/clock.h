// The wall clock labcm stamps stored rows and events with: milliseconds since the epoch.
// Pure decisions (registrar, allocator) take the time as an argument instead; an object that
// reads the time itself (the DHCP engine) is given a WallClock, so a test sets the time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace labcm {

inline std::int64_t wallClockMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

/// @brief The clock an object is given: wall-clock milliseconds (wallClockMs in production).
using WallClock = std::function<std::int64_t()>;

} // namespace labcm
