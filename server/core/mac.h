// MAC addresses and Cisco device names (SEP<MAC>).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace labcm {

/// @brief Normalises a MAC to 12 upper-case hex digits.
///
/// Accepts `001122AABBCC`, `00:11:22:aa:bb:cc`, `00-11-22-AA-BB-CC`, `0011.22aa.bbcc` and a
/// device name `SEP001122AABBCC` (any case). Returns nullopt for anything else.
std::optional<std::string> normalizeMac(std::string_view text);

/// @brief `SEP` + the normalised MAC.
inline std::string deviceName(std::string_view mac) { return "SEP" + std::string(mac); }

} // namespace labcm
