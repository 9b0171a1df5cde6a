#include "core/dial_pattern.h"

#include <algorithm>

#include <fmt/format.h>

namespace labcm {

std::optional<FieldError> validateDialPattern(const AdminDialPattern& p) {
    if (p.pattern.empty() || p.pattern.size() > kMaxDialPatternLength ||
        !std::all_of(p.pattern.begin(), p.pattern.end(), [](char c) {
            return (c >= '0' && c <= '9') || c == '.' || c == '*' || c == '#' || c == '+' || c == ',';
        }))
        return FieldError{"pattern", fmt::format("'{}' is not a dial pattern: 1 to {} of the digits and . * # + ,",
                                                 p.pattern, kMaxDialPatternLength)};
    if (p.timeoutSeconds < 0 || p.timeoutSeconds > kMaxDialTimeout)
        return FieldError{"timeout", fmt::format("{} is not a number of seconds from 0 to {}", p.timeoutSeconds,
                                                 kMaxDialTimeout)};
    if (!p.route.empty() &&
        (p.route.size() > 200 || !(p.route.starts_with("sip:") || p.route.starts_with("sips:")) ||
         !std::all_of(p.route.begin(), p.route.end(), [](unsigned char c) { return c > 0x20 && c < 0x7f; })))
        return FieldError{"route", fmt::format("'{}' is not a SIP URI (sip:host[:port], no spaces)", p.route)};
    return std::nullopt;
}

} // namespace labcm
