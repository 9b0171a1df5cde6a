// Olson time zone name -> the Cisco `timeZone` name a SEP file carries.
#pragma once

#include <optional>
#include <string_view>

namespace labcm::provision {

/// @brief The Cisco name for an Olson zone, or nullopt when the table has none (the SEP
/// file then carries "Greenwich Standard Time" plus the Olson name, and labcm warns).
std::optional<std::string_view> ciscoTimeZone(std::string_view olson);

inline constexpr std::string_view kFallbackCiscoTimeZone = "Greenwich Standard Time";

} // namespace labcm::provision
