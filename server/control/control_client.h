// The CLI's side of the control socket.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <boost/json/value.hpp>

namespace labcm::control {

/// @brief Connects to a running server's control socket; nullopt when none answers there
/// (no socket file, or a stale one).
/// @throw std::runtime_error when a server is there but the exchange fails.
std::optional<boost::json::value> callServer(const std::filesystem::path& socketPath, const boost::json::value& request);

} // namespace labcm::control
