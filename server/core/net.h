// The address phones are told to register to, and the host's own address.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace labcm::net {

/// @brief The first IPv4 address of an interface that is up and not loopback, or
/// "127.0.0.1" when there is none.
std::string primaryIPv4();

/// @brief The address phones are told to register to (pure): the setting when it is not
/// "auto"; else the bind address when it is a specific one; else `primary`.
std::string registrarAddress(const std::string& setting, const std::string& bindAddress, const std::string& primary);

/// @brief The same rule with primaryIPv4() (read only when the rule needs it).
std::string registrarAddress(const std::string& setting, const std::string& bindAddress);

} // namespace labcm::net
