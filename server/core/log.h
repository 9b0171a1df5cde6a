// Logging: spdlog, one process-wide logger. Every line that concerns a phone names it as
// `mac=<MAC> ip=<IP>` so `grep mac=001122AABBCC` finds a phone's whole story.
#pragma once

#include <string_view>

#include <spdlog/spdlog.h>

#include "core/events.h"

namespace labcm::log {

/// @brief Sets up the default logger (stderr, level from `level`: trace..off).
/// @throw std::invalid_argument for an unknown level name.
void init(std::string_view level);

/// @brief Writes an event as one log line (what the log sink of the event stream does).
void logEvent(const Event& e);

} // namespace labcm::log
