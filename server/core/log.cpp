#include "core/log.h"

#include <stdexcept>
#include <string>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace labcm::log {

void init(std::string_view level) {
    auto lvl = spdlog::level::from_str(std::string(level));
    // from_str answers "off" for names it does not know; only accept "off" when asked for.
    if (lvl == spdlog::level::off && level != "off")
        throw std::invalid_argument("unknown log level '" + std::string(level) +
                                    "' (trace, debug, info, warn, error, critical, off)");
    auto logger = spdlog::stderr_color_mt("labcm");
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%-5l%$ %v");
    logger->set_level(lvl);
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
}

void logEvent(const Event& e) {
    auto level = e.severity == Severity::Error     ? spdlog::level::err
                 : e.severity == Severity::Warning ? spdlog::level::warn
                                                   : spdlog::level::info;
    if (e.mac.empty() && e.ip.empty())
        spdlog::log(level, "{} {}: {}", toString(e.service), toString(e.kind), e.detail);
    else
        spdlog::log(level, "{} {} mac={} ip={}: {}", toString(e.service), toString(e.kind),
                    e.mac.empty() ? "-" : e.mac, e.ip.empty() ? "-" : e.ip, e.detail);
}

} // namespace labcm::log
