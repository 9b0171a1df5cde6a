#include "sip/source.h"

#include <cctype>
#include <charconv>

#include <fmt/format.h>

namespace labcm::sip {

namespace {

std::optional<std::uint16_t> parsePort(std::string_view s) {
    if (s.empty() || s.size() > 5) return std::nullopt;
    unsigned value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || end != s.data() + s.size() || value > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(value);
}

bool isTransport(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (!std::isalnum(static_cast<unsigned char>(c))) return false;
    return true;
}

} // namespace

std::optional<Source> Source::parse(std::string_view text) {
    auto colon = text.find(':');
    if (colon == std::string_view::npos || !isTransport(text.substr(0, colon))) return std::nullopt;
    auto rest = text.substr(colon + 1);
    std::string_view address, port;
    if (!rest.empty() && rest.front() == '[') {
        auto close = rest.find(']');
        if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') return std::nullopt;
        address = rest.substr(1, close - 1);
        port = rest.substr(close + 2);
    } else {
        auto last = rest.rfind(':');
        if (last == std::string_view::npos) return std::nullopt;
        address = rest.substr(0, last);
        port = rest.substr(last + 1);
    }
    if (address.empty() || address.find_first_of("[] \t") != std::string_view::npos) return std::nullopt;
    auto p = parsePort(port);
    if (!p) return std::nullopt;
    return Source{std::string(text.substr(0, colon)), std::string(address), *p};
}

std::string Source::toString() const { return fmt::format("{}:{}:{}", transport, address, port); }

std::string sourceAddress(std::string_view source) {
    auto s = Source::parse(source);
    return s ? s->address : std::string(source);
}

} // namespace labcm::sip
