// Auto-registration decisions, pure: which DN an auto-registered phone gets (how fast phones
// may be created: core/rate_limiter.h). The wiring (server.cpp) creates the device through the same
// device.add handler the CLI and the admin API use.
#pragma once

#include <optional>
#include <set>
#include <string>

namespace labcm::provision {

/// @brief The lowest DN in [first, last] (same number of digits, numeric order) that is
/// not in `used`; nullopt when the range is full or not numeric.
std::optional<std::string> nextFreeDn(const std::string& first, const std::string& last,
                                      const std::set<std::string>& used);

} // namespace labcm::provision
