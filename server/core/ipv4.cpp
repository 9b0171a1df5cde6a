#include "core/ipv4.h"

#include <cstdio>

#include <fmt/format.h>

namespace labcm {

std::string toString(const Ipv4& a) { return fmt::format("{}.{}.{}.{}", a[0], a[1], a[2], a[3]); }

std::optional<Ipv4> parseIpv4(std::string_view text) {
    Ipv4 a{};
    unsigned v[4];
    char tail;
    std::string s(text);
    if (std::sscanf(s.c_str(), "%3u.%3u.%3u.%3u%c", &v[0], &v[1], &v[2], &v[3], &tail) != 4) return std::nullopt;
    for (int i = 0; i < 4; ++i) {
        if (v[i] > 255) return std::nullopt;
        a[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v[i]);
    }
    return a;
}

} // namespace labcm
