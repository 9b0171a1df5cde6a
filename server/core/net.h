// Small network helpers.
#pragma once

#include <string>

namespace labcm::net {

/// @brief The first IPv4 address of an interface that is up and not loopback, or
/// "127.0.0.1" when there is none.
std::string primaryIPv4();

/// @brief The address phones are told to register to: the setting when it is not
/// "auto"; else the bind address when it is a specific one; else primaryIPv4().
std::string registrarAddress(const std::string& setting, const std::string& bindAddress);

} // namespace labcm::net
