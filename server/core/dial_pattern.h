// An admin's dial pattern (labcm dialplan set): what the phones' dial template holds besides
// the patterns labcm derives from the DNs in use. Pure.
#pragma once

#include <optional>
#include <string>

#include "core/device.h"

namespace labcm {

struct AdminDialPattern {
    std::string pattern;   ///< MATCH: digits and . * # + , (e.g. 9.........., 0+)
    int timeoutSeconds = 0; ///< how long the phone waits for more digits before it dials
    std::string route;     ///< sip: URI the calls issue sends a match to; "" = none yet
};

inline constexpr std::size_t kMaxDialPatternLength = 32;
inline constexpr int kMaxDialTimeout = 60;
inline constexpr std::size_t kMaxDialPatterns = 200;

/// @brief The first problem of a pattern (field "pattern", "timeout" or "route"), nullopt when fine.
std::optional<FieldError> validateDialPattern(const AdminDialPattern& p);

} // namespace labcm
