// Auto-registration decisions, pure: which DN an auto-registered phone gets, and how fast
// phones may be created. The wiring (server.cpp) creates the device through the same
// device.add handler the CLI and the admin API use.
#pragma once

#include <chrono>
#include <optional>
#include <set>
#include <string>

namespace labcm::provision {

/// @brief The lowest DN in [first, last] (same number of digits, numeric order) that is
/// not in `used`; nullopt when the range is full or not numeric.
std::optional<std::string> nextFreeDn(const std::string& first, const std::string& last,
                                      const std::set<std::string>& used);

/// @brief A token bucket: `burst` creations at once, then one per `interval`.
class CreationRate {
public:
    CreationRate(int burst, std::chrono::milliseconds interval) : burst_(burst), interval_(interval), tokens_(burst) {}
    /// @brief True (and a token spent) when a creation is allowed at `now`.
    bool allow(std::chrono::steady_clock::time_point now);

private:
    int burst_;
    std::chrono::milliseconds interval_;
    double tokens_;
    std::optional<std::chrono::steady_clock::time_point> last_;
};

} // namespace labcm::provision
