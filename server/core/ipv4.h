// An IPv4 address as four octets, in text and back: the one address type core knows (the
// DHCP reservation of a device is one). Protocols build on it (dhcp/codec.h).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace labcm {

using Ipv4 = std::array<std::uint8_t, 4>;

/// @brief "10.0.0.5".
std::string toString(const Ipv4& a);
/// @brief Dotted quad, each part 0..255, nothing after it; nullopt otherwise.
std::optional<Ipv4> parseIpv4(std::string_view text);

} // namespace labcm
